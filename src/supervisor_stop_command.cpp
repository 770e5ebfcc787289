// supervisor_stop_command.cpp — `stop_command`: how a service is asked to
// stop when a signal is not the way (`nginx -s quit`, `apachectl graceful-stop`).
//
// It replaces only the polite request: the state machine still arms
// stop_timeout and sends SIGKILL to the service's group when it runs out, and
// the stop command itself is killed with it. It runs like a healthcheck probe
// (the service's user, environment, directory and settings, a session of its
// own) with MAINPID set to the main process, as systemd's ExecStop= has it.
// It lives at most as long as the stop: once the service is down, a stop
// command still running is killed, so a hanging one is never left behind.
#include <signal.h>

#include "log.hpp"
#include "signal_names.hpp"
#include "supervisor.hpp"

namespace foster {

namespace {

// Where the stop command's output goes: the service's prefix pipe or
// /dev/null; files and the journal are opened per run of the service, so
// the command writes to foster's own output there.
int hook_output(const OutputTarget& target, const PrefixPipe* pipe, int dev_null) {
    switch (target.kind) {
        case OutputTarget::Kind::null: return dev_null;
        case OutputTarget::Kind::prefix: return pipe != nullptr ? pipe->write_fd() : -1;
        default: return -1;
    }
}

}  // namespace

bool Supervisor::run_stop_command(Service& s) {
    // Without a main process (it exited and left processes behind) there is
    // nothing for the command to talk to: the stop signal reaches the group.
    if (s.config.stop_command.empty() || !s.pidfd || s.stop_command_pid > 0) return false;
    const auto pid = s.machine.pid();
    if (!pid) return false;
    ServiceStdio stdio{dev_null_.get(), -1, -1};
    stdio.out = hook_output(s.config.stdout_target, s.stdout_pipe.get(), dev_null_.get());
    stdio.err = s.config.stderr_target.kind == OutputTarget::Kind::same_as_stdout
                    ? stdio.out
                    : hook_output(s.config.stderr_target, s.stderr_pipe.get(), dev_null_.get());
    SpawnRequest request = request_for(s, s.config.stop_command, stdio);
    request.envp = merge_environment(request.envp, {{"MAINPID", std::to_string(*pid)}});
    SpawnResult result = spawn(request);
    if (!result.child) {
        log::error(s.config.name + ": stop_command: " +
                   describe_spawn_failure(result.failure.stage, s.config.stop_command.front(),
                                          s.config.working_directory.value_or(""), result.failure.detail) +
                   ": " + log::errno_text(result.failure.error) + "; sending " + signal_name(s.config.stop_signal));
        return false;  // an exec failure's child is reaped as an orphan
    }
    s.stop_command_pid = result.child->pid;
    log::info(s.config.name + ": running its stop_command (pid " + std::to_string(s.stop_command_pid) + ")");
    return true;
}

void Supervisor::kill_stop_command(Service& s) {
    if (s.stop_command_pid > 0) kill(-s.stop_command_pid, SIGKILL);  // its own session
}

bool Supervisor::reap_stop_command(pid_t pid, const ExitStatus& status) {
    for (auto& s : services_) {
        if (s->stop_command_pid != pid) continue;
        s->stop_command_pid = -1;
        if (status.code() != 0)
            log::error(s->config.name + ": stop_command exited with status " + std::to_string(status.code()));
        return true;
    }
    return false;
}

}  // namespace foster
