#include "overlap.hpp"

#include <utility>

#include "signal_names.hpp"

namespace foster::service {

namespace {

std::string describe(ExitStatus status) {
    if (status.signaled) return "killed by " + signal_name(status.status);
    return "exit " + std::to_string(status.status);
}

}  // namespace

const char* role_name(SideRun::Role role) noexcept {
    switch (role) {
    case SideRun::Role::serving: return "serving";
    case SideRun::Role::draining: return "draining";
    case SideRun::Role::abandoned: return "abandoned";
    }
    return "unknown";
}

SideRun::SideRun(std::string name, Run run, Role role) : name_(std::move(name)), run_(run), role_(role) {}

std::string SideRun::describe_run() const {
    return std::string(role_ == Role::abandoned ? "new" : "old") + " process (pid " + std::to_string(run_.pid) + ")";
}

SideRun::Step SideRun::stop(TimePoint now, Role role, const Policy& policy) {
    role_ = role;
    Step step;
    if (stopping_ || over()) return step;
    stopping_ = true;
    if (policy.stop_timeout <= Millis{0}) {
        kill_sent_ = true;
        step.send_signal = SIGKILL;
        step.message = name_ + ": stopping the " + describe_run() + " with SIGKILL (stop_timeout 0)";
        return step;
    }
    step.stop = true;
    step.send_signal = policy.stop_signal;
    deadline_ = now + policy.stop_timeout;
    step.arm = deadline_;
    step.message = name_ + ": " + (role == Role::draining ? "draining" : "stopping") + " the " + describe_run() +
                   " (" + signal_name(policy.stop_signal) + ", SIGKILL after " + format_duration(policy.stop_timeout) +
                   ")";
    return step;
}

SideRun::Step SideRun::kill() {
    Step step;
    if (kill_sent_ || over()) return step;
    kill_sent_ = stopping_ = true;
    deadline_.reset();
    step.send_signal = SIGKILL;
    step.message = name_ + ": sending SIGKILL to the " + describe_run();
    return step;
}

SideRun::Step SideRun::timer_fired(TimePoint now) {
    if (!deadline_ || now < *deadline_ || kill_sent_) return {};
    deadline_.reset();
    Step step = kill();
    step.message = name_ + ": the " + describe_run() + " is still running after its stop_timeout, sending SIGKILL";
    return step;
}

SideRun::Step SideRun::main_exited(TimePoint now, ExitStatus status, bool group_empty, const Policy& policy) {
    Step step;
    if (!run_.main_alive) return step;
    run_.main_alive = false;
    run_.group_alive = run_.group_alive && !group_empty;
    const std::string what = name_ + ": the " + describe_run() + " exited (" + describe(status) + ")";
    if (role_ == Role::serving) {
        // Not restarted: the new run is on its way, and readiness is its own.
        if (run_.group_alive) step = stop(now, Role::draining, policy);
        role_ = Role::draining;
        step.stop = false;  // nothing left for a stop_command to talk to
        step.message = what + " during the overlapping restart; not restarted: the new one takes over" +
                       (run_.group_alive ? ", stopping what it left behind" : "");
        return step;
    }
    step.message = what;
    return step;
}

OverlapStep overlap_step(State new_run, bool new_run_ready, bool timed_out) noexcept {
    if (new_run_ready) return OverlapStep::drain_old;
    // No process of the new run left to wait for: its spawn failed (backoff)
    // or it ended for good.
    if (new_run == State::backoff || new_run == State::fatal || new_run == State::exited) return OverlapStep::abandon_new;
    return timed_out ? OverlapStep::abandon_new : OverlapStep::wait;
}

}  // namespace foster::service
