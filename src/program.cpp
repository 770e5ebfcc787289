#include "program.hpp"

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "log.hpp"
#include "signal_names.hpp"

namespace foster {

namespace {

// PROGRAM gets the terminal only if foster has it: stdin is a terminal and
// foster's group is its foreground group. A foster started in the background
// must not steal the terminal from the shell that started it.
bool should_take_terminal() {
    if (!isatty(STDIN_FILENO)) return false;
    return tcgetpgrp(STDIN_FILENO) == getpgrp();
}

}  // namespace

Program::Program(const Options& options, Inheritance& inheritance)
    : options_(options), inheritance_(inheritance) {}

SpawnRequest Program::build_request() const {
    SpawnRequest r;
    r.argv = options_.program;
    r.envp = inheritance_.environment;
    // WatchdogSec= of a unit that runs `foster -- app` is app's to keep: a
    // WATCHDOG_PID naming foster would make sd_watchdog_enabled(3) in PROGRAM
    // say no, and without one the watchdog applies to whoever reads it.
    std::erase(r.envp, "WATCHDOG_PID=" + std::to_string(inheritance_.pid));
    r.rewrite_listen_pid = listen_pid_names(inheritance_.environment, inheritance_.pid);
    r.group = ProcessGroup::new_group;
    r.take_terminal = took_terminal_;
    r.mask = inheritance_.signals.mask;
    // foster has no handlers, so execve leaves what foster inherited as
    // ignored ignored. SIGCHLD is the exception: foster sets it for its own
    // reaping (autoreap.hpp), and PROGRAM gets back the one foster was given.
    sigemptyset(&r.reset_to_default);
    sigemptyset(&r.ignore);
    sigaddset(sigismember(&inheritance_.signals.ignored, SIGCHLD) == 1 ? &r.ignore : &r.reset_to_default, SIGCHLD);
    r.keep_fds = fd_numbers(inheritance_.fds);
    return r;
}

std::optional<int> Program::start() {
    took_terminal_ = should_take_terminal();
    SpawnResult result = spawn(build_request());
    if (!result.child) {
        const SpawnFailure& f = result.failure;
        log::fatal(describe_spawn_failure(f.stage, options_.program.front(), "") + ": " + log::errno_text(f.error));
        if (f.pid > 0) reap_child(f.pid);  // it has already exited: this does not block
        return f.stage == SpawnStage::exec ? exit_status_for_exec_errno(f.error) : 126;
    }
    pid_ = result.child->pid;
    pidfd_ = std::move(result.child->pidfd);
    inheritance_.fds.clear();  // PROGRAM has them now; our copies would hold pipes open
    log::debug("started '" + options_.program.front() + "' as pid " + std::to_string(pid_));
    return std::nullopt;
}

void Program::forward(int received) {
    const int sig = options_.signal_rewrite[static_cast<std::size_t>(received)];
    if (!running()) {
        log::debug("received " + signal_name(received) + " after PROGRAM exited; not forwarded");
        return;
    }
    if (sig == 0) {
        log::debug("received " + signal_name(received) + "; dropped (-r)");
        return;
    }
    if (!send(sig) && errno != ESRCH)
        log::error("cannot forward " + signal_name(sig) + " to pid " + std::to_string(pid_) + ": " +
                   log::errno_text(errno));
    else if (log::level() == log::Level::verbose)  // the message costs more than the forwarding
        log::debug("forwarded " + signal_name(sig) + " to " + (options_.signal_group ? "group " : "pid ") +
                   std::to_string(pid_));
}

bool Program::send(int sig) {
    if (!running()) return false;
    // Through the pidfd, so neither PROGRAM's pid nor its group id can have
    // been recycled, even when the kernel has just reaped it (autoreap.hpp).
    return options_.signal_group ? send_signal_to_group(pidfd_, pid_, sig) : send_signal(pidfd_, sig);
}

bool Program::on_reaped(const ReapedChild& child) {
    if (!running() || child.pid != pid_) return false;
    on_exited(child.exit);
    return true;
}

void Program::on_exited(ExitStatus status) {
    exit_ = status;
    pidfd_.reset();
    if (took_terminal_) {
        // Take the terminal back for foster's group, so whatever started
        // foster finds it as it left it. SIGTTOU is blocked: this cannot stop us.
        tcsetpgrp(STDIN_FILENO, getpgrp());
    }
    log::debug("'" + options_.program.front() + "' exited with status " + std::to_string(status.code()));
}

int Program::exit_code() const {
    const int code = exit_ ? exit_->code() : 0;
    const auto& ok = options_.success_exits;
    return std::find(ok.begin(), ok.end(), code) != ok.end() ? 0 : code;
}

}  // namespace foster
