// supervisor_hooks.cpp — commands foster runs for a service besides the
// service itself: `pre_start` before every start, `stop_command` instead of
// the stop signal, `post_stop` after every run.
//
// All run like a healthcheck probe: the service's user, environment,
// directory and process settings, a session of their own, output to the
// pipe foster reads (prefix, or a file foster writes), or /dev/null (other
// files and the journal are opened per run of the service, so hooks write to
// foster's own output there).
//
// pre_start: the state machine is in `starting` with no spawn reported while
// it runs, so a stop in that window needs nothing from the machine (it goes
// straight to `stopped`); the hook is killed and its result ignored. Success
// spawns the service; failure, a timeout (`hook_timeout`, then SIGKILL to its
// session) or a failure to run it is a failed spawn: backoff and retry.
//
// post_stop: started when a run ends (Supervisor::handle sees the
// transition), with the run's exit status; a start that comes meanwhile
// waits for it (start_after_post_stop), and so does the shutdown.
//
// stop_command replaces only the polite request: the machine still arms
// stop_timeout and sends SIGKILL to the service's group when it runs out, and
// the command is killed with it. MAINPID names the main process, as for
// systemd's ExecStop=. It lives at most as long as the stop.
#include <signal.h>

#include <cerrno>

#include "log.hpp"
#include "signal_names.hpp"
#include "supervisor.hpp"

namespace foster {

namespace {

using service::State;

// Where foster reads the service's stream (prefix, or a file foster writes)
// the hook writes there too; `null` is /dev/null; anything else is foster's own.
int hook_output(const OutputTarget& target, const ServiceOutput* output, Stream stream, int dev_null) {
    if (output != nullptr && output->write_fd(stream) >= 0) return output->write_fd(stream);
    return target.kind == OutputTarget::Kind::null ? dev_null : -1;
}

void kill_session(pid_t& pid) {
    if (pid > 0) kill(-pid, SIGKILL);
}

}  // namespace

std::optional<pid_t> Supervisor::run_hook(Service& s, const char* what, const std::vector<std::string>& argv,
                                          const std::vector<std::pair<std::string, std::string>>& extra_environment) {
    ServiceStdio stdio{dev_null_.get(), -1, -1};
    stdio.out = hook_output(*s.config.stdout_target, s.output.get(), Stream::out, dev_null_.get());
    stdio.err = s.config.stderr_target->kind == OutputTarget::Kind::same_as_stdout
                    ? stdio.out
                    : hook_output(*s.config.stderr_target, s.output.get(), Stream::err, dev_null_.get());
    SpawnRequest request = request_for(s, argv, stdio);
    if (!extra_environment.empty()) request.envp = merge_environment(request.envp, extra_environment);
    SpawnResult result = spawn(request);
    if (!result.child) {
        log::error(s.config.name + ": " + what + ": " +
                   describe_spawn_failure(result.failure.stage, argv.front(), s.config.working_directory.value_or(""),
                                          result.failure.detail) +
                   ": " + log::errno_text(result.failure.error));
        return std::nullopt;  // an exec failure's child is reaped as an orphan
    }
    log::info(s.config.name + ": running its " + what + " (pid " + std::to_string(result.child->pid) + ")");
    hook_pids_.insert(result.child->pid);
    return result.child->pid;
}

// ---------------------------------------------------------------- pre_start

void Supervisor::start_run(Service& s) {
    if (s.post_stop_pid > 0) {  // the last run's post_stop first
        s.start_after_post_stop = true;
        return;
    }
    if (s.config.hooks->pre_start.empty()) {
        spawn_service(s);
        return;
    }
    ensure_output(s);
    const auto pid = run_hook(s, "pre_start", s.config.hooks->pre_start, {});
    if (!pid) {
        handle(s, s.machine.spawn_failed(Clock::now(), ECANCELED));
        return;
    }
    s.pre_start_pid = *pid;
    s.pre_start_timed_out = false;
    Service* target = &s;
    s.pre_start_timer = loop_.timers().schedule(Clock::now() + s.config.hooks->hook_timeout, [target] {
        target->pre_start_timer = 0;
        target->pre_start_timed_out = true;
        kill_session(target->pre_start_pid);
    });
}

void Supervisor::on_pre_start_exit(Service& s, const ExitStatus& status) {
    loop_.timers().cancel(std::exchange(s.pre_start_timer, 0));
    s.pre_start_pid = -1;
    // A stop came while it ran: the start it was for is gone.
    if (s.machine.state() != State::starting || s.machine.pid()) return;
    if (!s.pre_start_timed_out && !status.signaled && status.status == 0) {
        spawn_service(s);
        return;
    }
    log::error(s.config.name + ": pre_start " +
               (s.pre_start_timed_out ? "timed out after " + format_duration(s.config.hooks->hook_timeout)
                                      : "failed (" + std::string(status.signaled ? "killed by " + signal_name(status.status)
                                                                                 : "exit " + std::to_string(status.status)) +
                                            ")"));
    handle(s, s.machine.spawn_failed(Clock::now(), ECANCELED));
}

void Supervisor::cancel_pre_start(Service& s) {
    s.start_after_post_stop = false;
    loop_.timers().cancel(std::exchange(s.pre_start_timer, 0));
    kill_session(s.pre_start_pid);  // reaped in on_children, its result ignored
}

// ---------------------------------------------------------------- post_stop

void Supervisor::run_post_stop(Service& s) {
    s.run_active = false;
    if (s.config.hooks->post_stop.empty() || s.post_stop_pid > 0) return;
    std::vector<std::pair<std::string, std::string>> exit_environment;
    if (s.last_exit) {
        exit_environment.emplace_back("FOSTER_EXIT_STATUS", std::to_string(s.last_exit->code()));
        if (s.last_exit->signaled) exit_environment.emplace_back("FOSTER_EXIT_SIGNAL", signal_name(s.last_exit->status));
    }
    const auto pid = run_hook(s, "post_stop", s.config.hooks->post_stop, exit_environment);
    if (!pid) return;
    s.post_stop_pid = *pid;
    Service* target = &s;
    s.post_stop_timer = loop_.timers().schedule(Clock::now() + s.config.hooks->hook_timeout, [target] {
        target->post_stop_timer = 0;
        log::error(target->config.name + ": post_stop timed out after " + format_duration(target->config.hooks->hook_timeout));
        kill_session(target->post_stop_pid);
    });
}

void Supervisor::on_post_stop_exit(Service& s, const ExitStatus& status) {
    loop_.timers().cancel(std::exchange(s.post_stop_timer, 0));
    s.post_stop_pid = -1;
    if (status.code() != 0)
        log::error(s.config.name + ": post_stop exited with status " + std::to_string(status.code()));
    if (std::exchange(s.start_after_post_stop, false) && s.machine.state() == State::starting && !s.machine.pid())
        start_run(s);
}

void Supervisor::kill_hooks(Service& s) {
    kill_session(s.pre_start_pid);
    kill_session(s.stop_command_pid);
    kill_session(s.post_stop_pid);
}

// ------------------------------------------------------------- stop_command

bool Supervisor::run_stop_command(Service& s) {
    // Without a main process (it exited and left processes behind) there is
    // nothing for the command to talk to: the stop signal reaches the group.
    if (s.config.hooks->stop_command.empty() || !s.main_process || s.stop_command_pid > 0) return false;
    const auto main_pid = s.machine.pid();
    if (!main_pid) return false;
    const auto pid = run_hook(s, "stop_command", s.config.hooks->stop_command, {{"MAINPID", std::to_string(*main_pid)}});
    if (!pid) {
        log::error(s.config.name + ": sending " + signal_name(s.config.stop_signal) + " instead");
        return false;
    }
    s.stop_command_pid = *pid;
    return true;
}

void Supervisor::kill_stop_command(Service& s) { kill_session(s.stop_command_pid); }

// ------------------------------------------------------------------ reaping

bool Supervisor::reap_hook(pid_t pid, const ExitStatus& status) {
    // Most reaped children are no hook: they are not looked for among every service.
    if (!hook_pids_.contains(pid)) return false;
    for (auto& s : services_) {
        if (s->pre_start_pid == pid) {
            hook_pids_.erase(pid);
            on_pre_start_exit(*s, status);
            return true;
        }
        if (s->post_stop_pid == pid) {
            hook_pids_.erase(pid);
            on_post_stop_exit(*s, status);
            return true;
        }
        if (s->stop_command_pid != pid) continue;
        s->stop_command_pid = -1;
        hook_pids_.erase(pid);
        if (status.code() != 0)
            log::error(s->config.name + ": stop_command exited with status " + std::to_string(status.code()));
        return true;
    }
    return false;
}

}  // namespace foster
