// supervisor_overlap.cpp — overlapping restarts, the supervisor's side: the
// SideRun of overlap.hpp carried out with processes, timers and the log.
//
// Decisions (foster.toml(5), RESTART MODES, says them to users):
// - Only a `running` service overlaps; any other is restarted the ordinary
//   way (there is no old process to keep serving).
// - One overlap at a time per service: a second request while the other run
//   still exists is refused, so there are never three processes.
// - The old run's exit, whenever it comes, never reaches the state machine:
//   no restart policy, no exit_status, no post_stop (the service did not
//   stop, it was replaced). A crash while it serves is logged; the new run
//   takes over as soon as it is ready.
// - A stop of the service (fosterctl stop, a reload removing it, shutdown)
//   stops both runs, each with stop_signal and stop_timeout; SIGKILL (second
//   SIGTERM, shutdown_timeout) reaches both.
// - READY=1 counts only from the new run: the old run's pid is out of
//   by_pid_ and its session is not the machine's process group, so
//   on_notify ignores it.
// - Dependents are left alone: the service counts as ready while the old run
//   serves (is_ready), so nothing that depends on it stops or waits.
#include <signal.h>

#include <cerrno>
#include <utility>

#include "log.hpp"
#include "reaper.hpp"
#include "signal_names.hpp"
#include "supervisor.hpp"

#include <unistd.h>

namespace foster {

namespace {

using service::SideRun;
using service::State;

bool group_gone(pid_t pgid) { return kill(-pgid, 0) != 0 && errno == ESRCH; }

std::string describe(const ExitStatus& e) {
    return e.signaled ? "killed by " + signal_name(e.status) : "exit " + std::to_string(e.status);
}

control::Response refused(std::string text) { return control::Response{false, std::move(text), {}, {}}; }

}  // namespace

control::Response Supervisor::restart_overlapping(const std::vector<std::string>& names) {
    if (phase_ != Phase::running) return refused("foster is shutting down");
    // Every name is checked before anything changes.
    for (const auto& name : names) {
        const Service& s = *find(name);
        if (s.config.type == ServiceType::oneshot)
            return refused(name + " is a oneshot: there is no running process to overlap with");
        if (s.side)
            return refused(name + ": an overlapping restart is still in progress (pid " +
                           std::to_string(s.side->run().pid) + " " + service::role_name(s.side->role()) +
                           "); try again once it is over");
    }
    const TimePoint now = Clock::now();
    for (const auto& name : names) {
        Service& s = *find(name);
        s.overlap_failure.reset();
        if (s.machine.state() == State::running && s.machine.pid()) {
            log::info(name + ": overlapping restart requested");
            begin_overlap(s);
        } else {
            log::info(name + ": restart requested; it is " + service::state_name(s.machine.state()) +
                      ", so there is nothing to overlap with");
            request_start(s, true, now);
        }
    }
    settle();  // at once, as for any start (answer_start)
    return control::Response{};
}

bool Supervisor::begin_overlap(Service& s) {
    const TimePoint now = Clock::now();
    service::Run old;
    const service::Actions a = s.machine.hand_over(now, old);
    if (a.none()) return false;
    by_pid_.erase(old.pid);
    by_side_pid_[old.pid] = &s;
    s.side.emplace(s.config.name, old, SideRun::Role::serving);
    s.side_process = std::exchange(s.main_process, {});
    s.overlap_failure.reset();
    s.overlap_timed_out = false;
    if (s.config.healthcheck) s.serving_health = s.health;
    // Not a stop: post_stop is for runs that end, and this one is replaced.
    s.run_active = false;
    s.wanted = true;
    s.start_pending = false;
    Service* target = &s;
    s.overlap_timer = loop_.timers().schedule(now + s.config.overlap_timeout, [target] {
        target->overlap_timer = 0;
        target->overlap_timed_out = true;  // settle() acts on it
    });
    handle(s, a);
    return true;
}

bool Supervisor::new_run_ready(const Service& s) const {
    return s.ready && s.machine.state() == State::running && healthy_enough(s);
}

// After every batch of events: an old run that serves is drained once the new
// one is ready, taken back when the new one failed; a side run that is over
// is forgotten.
void Supervisor::advance_overlaps() {
    for (auto& owned : services_) {
        Service& s = *owned;
        if (!s.side) continue;
        if (s.side->over()) {
            forget_side(s);
            continue;
        }
        if (!s.side->serving()) continue;
        switch (service::overlap_step(s.machine.state(), new_run_ready(s), s.overlap_timed_out)) {
        case service::OverlapStep::wait: break;
        case service::OverlapStep::drain_old: drain_old(s); break;
        case service::OverlapStep::abandon_new:
            abandon_new(s,
                        s.overlap_timed_out
                            ? "the new process did not become ready within overlap_timeout (" +
                                  format_duration(s.config.overlap_timeout) + ")"
                            : "the new process could not be started" +
                                  (s.spawn_failure ? " (" + *s.spawn_failure + ")" : std::string()),
                        false);
            break;
        }
    }
}

void Supervisor::drain_old(Service& s) {
    const log::About about(s.config.name);
    loop_.timers().cancel(std::exchange(s.overlap_timer, 0));
    s.serving_health.reset();
    log::info(s.config.name + ": the new process (pid " + std::to_string(s.machine.pid().value_or(0)) + ") is ready");
    apply_side(s, s.side->stop(Clock::now(), SideRun::Role::draining, s.machine.policy()));
}

// The new run did not become ready: the machine takes the old run back, and
// what lives of the new one is stopped as the side run.
void Supervisor::abandon_new(Service& s, const std::string& why, bool new_main_gone) {
    const log::About about(s.config.name);
    const TimePoint now = Clock::now();
    const service::Run old = s.side->run();
    service::Run abandoned;
    const service::Actions a = s.machine.take_back(now, old, abandoned);
    if (a.none()) return;
    loop_.timers().cancel(std::exchange(s.overlap_timer, 0));
    loop_.timers().cancel(std::exchange(s.side_timer, 0));
    stop_probe(s);
    const MainProcess new_process = std::exchange(s.main_process, std::exchange(s.side_process, {}));
    if (abandoned.pid > 0) by_pid_.erase(abandoned.pid);
    by_side_pid_.erase(old.pid);
    by_pid_[old.pid] = &s;
    s.side.reset();
    if (new_main_gone) {
        abandoned.main_alive = false;
        abandoned.group_alive = abandoned.group_alive && !group_gone(abandoned.pid);
    }
    s.overlap_failure = why + "; the old process (pid " + std::to_string(old.pid) + ") keeps running";
    log::error(s.config.name + ": overlapping restart failed: " + *s.overlap_failure);
    if (abandoned.pid > 0 && (abandoned.main_alive || abandoned.group_alive)) {
        s.side.emplace(s.config.name, abandoned, SideRun::Role::abandoned);
        s.side_process = new_process;
        if (abandoned.main_alive) by_side_pid_[abandoned.pid] = &s;
        apply_side(s, s.side->stop(now, SideRun::Role::abandoned, s.machine.policy()));
    }
    s.run_active = true;  // the old run's, again
    auto health = std::exchange(s.serving_health, std::nullopt);
    handle(s, a);
    if (health) s.health = *health;
    if (s.config.healthcheck && s.probe_timer == 0 && s.probe_pid < 0)
        schedule_probe(s, now + s.config.healthcheck->interval);
}

void Supervisor::apply_side(Service& s, const SideRun::Step& step) {
    if (!s.side) return;
    if (!step.message.empty()) log::info(step.message);
    if (step.arm) {
        loop_.timers().cancel(s.side_timer);
        Service* target = &s;
        s.side_timer = loop_.timers().schedule(*step.arm, [this, target] {
            target->side_timer = 0;
            if (target->side) apply_side(*target, target->side->timer_fired(Clock::now()));
        });
    }
    if (step.send_signal == 0) return;
    if (step.send_signal == SIGKILL) {
        loop_.timers().cancel(std::exchange(s.side_timer, 0));
        if (s.side_stop_command_pid > 0) kill(-s.side_stop_command_pid, SIGKILL);
        if (phase_ != Phase::running) needed_kill_ = true;
    }
    if (step.stop && run_side_stop_command(s)) return;
    const service::Run& run = s.side->run();
    const bool group = run.main_alive || run.group_alive;
    if (group) kill(-run.pid, step.send_signal);
    // The main process only when it left its group: a second stop signal
    // may mean "quit now" to it (signal_service).
    if (s.side_process && (!group || getpgid(s.side_process.pid) != run.pid))
        send_signal(s.side_process, step.send_signal);
}

// stop_command, with MAINPID = the old (or abandoned) main process.
bool Supervisor::run_side_stop_command(Service& s) {
    if (s.config.hooks->stop_command.empty() || !s.side_process || !s.side->run().main_alive || s.side_stop_command_pid > 0)
        return false;
    const auto pid = run_hook(s, "stop_command", s.config.hooks->stop_command,
                              {{"MAINPID", std::to_string(s.side->run().pid)}});
    if (!pid) return false;
    s.side_stop_command_pid = *pid;
    return true;
}

// A side run's main process, or its stop_command, was reaped.
bool Supervisor::reap_side(pid_t pid, const ExitStatus& status) {
    // A side run's stop_command is a hook (run_hook): looked for only then.
    if (hook_pids_.erase(pid) > 0) {
        for (auto& owned : services_) {
            if (owned->side_stop_command_pid != pid) continue;
            owned->side_stop_command_pid = -1;
            if (status.code() != 0)
                log::error(owned->config.name + ": stop_command exited with status " + std::to_string(status.code()));
            return true;
        }
    }
    const auto it = by_side_pid_.find(pid);
    if (it == by_side_pid_.end()) return false;
    Service& s = *it->second;
    by_side_pid_.erase(it);
    s.side_process.reset();
    if (!s.side || s.side->run().pid != pid) return true;
    const log::About about(s.config.name);
    apply_side(s, s.side->main_exited(Clock::now(), status, group_gone(pid), s.machine.policy()));
    if (s.side->over()) forget_side(s);
    return true;
}

// The machine's main process exited while the old run still serves: the new
// run failed before it was ready. True when handled here.
bool Supervisor::new_run_failed(Service& s, const ExitStatus& status) {
    if (!s.side || !s.side->serving()) return false;
    s.main_process.reset();
    abandon_new(s, "the new process exited (" + describe(status) + ") before it was ready", true);
    return true;
}

// From handle(): the service is stopping or down, so its other run stops too.
void Supervisor::on_run_stopping(Service& s, const service::Actions& a) {
    if (!s.side) return;
    if (a.send_signal == SIGKILL) apply_side(s, s.side->kill());
    const bool stopping = a.to == State::stopping || (a.from != a.to && s.machine.is_down());
    if (!stopping || s.side->stopping()) return;
    if (s.side->serving()) {
        loop_.timers().cancel(std::exchange(s.overlap_timer, 0));
        s.overlap_failure = "the service was stopped during the overlapping restart";
    }
    apply_side(s, s.side->stop(Clock::now(), SideRun::Role::draining, s.machine.policy()));
}

// What a side run left in its group may have been reaped just now.
void Supervisor::check_side_groups() {
    for (auto& owned : services_) {
        Service& s = *owned;
        if (!s.side || !s.side->waiting_for_group()) continue;
        if (group_gone(s.side->run().pid)) s.side->group_emptied();
        if (s.side->over()) forget_side(s);
    }
}

void Supervisor::forget_side(Service& s) {
    loop_.timers().cancel(std::exchange(s.side_timer, 0));
    loop_.timers().cancel(std::exchange(s.overlap_timer, 0));
    // A stop_command outlived the process it was for: it has nothing left to do.
    if (s.side_stop_command_pid > 0) kill(-s.side_stop_command_pid, SIGKILL);
    s.side_stop_command_pid = -1;
    if (s.side) {
        by_side_pid_.erase(s.side->run().pid);
        if (s.side->role() == SideRun::Role::draining) log::info(s.config.name + ": the old process is gone");
    }
    s.side.reset();
    s.side_process.reset();
    s.serving_health.reset();
}

}  // namespace foster
