// Overlapping restarts, the pure parts: the state machine handing its run over
// and taking it back (service_state.hpp), the side run's stop (overlap.hpp),
// and what an overlap does next. No processes, a made-up clock.
#include <doctest/doctest.h>

#include <csignal>
#include <string>

#include "overlap.hpp"
#include "service_state.hpp"

using foster::Millis;
using namespace foster::service;

namespace {

constexpr int old_pid = 100;
constexpr int new_pid = 200;

struct Fixture {
    TimePoint now{};
    Policy policy;
    StateMachine machine{"web", policy};

    Fixture() {
        policy.start_limit_burst = 0;
        machine.set_policy(policy);
        machine.start_requested(now);
        machine.spawned(now, old_pid);
        machine.exec_succeeded(now);
        REQUIRE(machine.state() == State::running);
        now += Millis{5'000};
    }
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("hand_over: the running process leaves the machine, which starts a new one") {
    Fixture f;
    Run previous;
    const Actions a = f.machine.hand_over(f.now, previous);
    CHECK(a.spawn);
    CHECK(a.from == State::running);
    CHECK(a.to == State::starting);
    CHECK(contains(a.message, "pid 100 keeps serving"));
    CHECK(previous.pid == old_pid);
    CHECK(previous.main_alive);
    CHECK(previous.group_alive);
    CHECK(previous.started_at == TimePoint{});
    // The machine no longer knows the old process.
    CHECK_FALSE(f.machine.pid());
    CHECK_FALSE(f.machine.process_group());
    f.machine.spawned(f.now, new_pid);
    CHECK(f.machine.pid() == new_pid);
    CHECK(f.machine.exec_succeeded(f.now).became_ready);
    CHECK(f.machine.state() == State::running);
    CHECK(f.machine.restarts() == 0);
}

TEST_CASE("hand_over: only from running with a live main process") {
    StateMachine m("web", Policy{});
    Run previous{.pid = 7};
    CHECK(m.hand_over(TimePoint{}, previous).none());
    m.start_requested(TimePoint{});
    CHECK(m.hand_over(TimePoint{}, previous).none());  // starting, nothing spawned
    m.spawned(TimePoint{}, old_pid);
    CHECK(m.hand_over(TimePoint{}, previous).none());  // starting: not serving yet
    CHECK(previous.pid == 7);
    m.exec_succeeded(TimePoint{});
    m.stop_requested(TimePoint{});
    CHECK(m.hand_over(TimePoint{}, previous).none());  // stopping
}

TEST_CASE("take_back: the new run failed before it was ready; the old one is the service again") {
    Fixture f;
    Run previous;
    f.machine.hand_over(f.now, previous);
    f.machine.spawned(f.now, new_pid);
    f.now += Millis{1'000};
    Run abandoned;
    const Actions a = f.machine.take_back(f.now, previous, abandoned);
    CHECK(a.from == State::starting);
    CHECK(a.to == State::running);
    CHECK(a.became_ready);
    CHECK_FALSE(a.spawn);
    CHECK(a.send_signal == 0);
    CHECK(contains(a.message, "pid 100 keeps running"));
    CHECK(abandoned.pid == new_pid);
    CHECK(abandoned.main_alive);
    CHECK(f.machine.pid() == old_pid);
    CHECK(f.machine.started_at() == TimePoint{});  // the old run's uptime goes on
    // The old run is the machine's again: its exit is an ordinary one.
    const Actions exit = f.machine.process_exited(f.now, ExitStatus::exited(1), true);
    CHECK(exit.to == State::backoff);
}

TEST_CASE("take_back: after a failed spawn (backoff), its timer is cancelled and nothing is abandoned") {
    Fixture f;
    Run previous;
    f.machine.hand_over(f.now, previous);
    REQUIRE(f.machine.spawn_failed(f.now, EAGAIN).to == State::backoff);
    Run abandoned;
    const Actions a = f.machine.take_back(f.now, previous, abandoned);
    CHECK(a.to == State::running);
    CHECK(a.timer == Actions::Timer::cancel);
    CHECK_FALSE(f.machine.deadline());
    CHECK_FALSE(abandoned.main_alive);
    CHECK_FALSE(abandoned.group_alive);
}

TEST_CASE("take_back: not from a stop, nor from a down state") {
    Fixture f;
    Run previous;
    f.machine.hand_over(f.now, previous);
    f.machine.spawned(f.now, new_pid);
    f.machine.stop_requested(f.now);
    Run abandoned;
    CHECK(f.machine.take_back(f.now, previous, abandoned).none());
    StateMachine stopped("db", Policy{});
    CHECK(stopped.take_back(f.now, previous, abandoned).none());
}

TEST_CASE("SideRun: draining sends stop_signal, then SIGKILL at the deadline") {
    Policy p;
    p.stop_signal = SIGINT;
    p.stop_timeout = Millis{3'000};
    SideRun side("web", Run{old_pid, TimePoint{}, true, true}, SideRun::Role::serving);
    CHECK(side.serving());
    const TimePoint t0{};
    const auto stop = side.stop(t0, SideRun::Role::draining, p);
    CHECK(stop.stop);
    CHECK(stop.send_signal == SIGINT);
    CHECK(stop.arm == t0 + Millis{3'000});
    CHECK(side.role() == SideRun::Role::draining);
    CHECK(contains(stop.message, "draining the old process (pid 100)"));
    CHECK(side.stop(t0, SideRun::Role::draining, p).send_signal == 0);  // already stopping
    CHECK(side.timer_fired(t0 + Millis{2'999}).send_signal == 0);      // early
    CHECK(side.timer_fired(t0 + Millis{3'000}).send_signal == SIGKILL);
    CHECK(side.kill_sent());
    CHECK(side.kill().send_signal == 0);  // once
    CHECK_FALSE(side.over());
    side.main_exited(t0, ExitStatus::killed(SIGKILL), false, p);
    CHECK(side.waiting_for_group());
    side.group_emptied();
    CHECK(side.over());
}

TEST_CASE("SideRun: stop_timeout 0 is SIGKILL at once") {
    Policy p;
    p.stop_timeout = Millis{0};
    SideRun side("web", Run{new_pid, TimePoint{}, true, true}, SideRun::Role::serving);
    const auto stop = side.stop(TimePoint{}, SideRun::Role::abandoned, p);
    CHECK(stop.send_signal == SIGKILL);
    CHECK_FALSE(stop.stop);
    CHECK_FALSE(stop.arm);
    CHECK(contains(stop.message, "new process (pid 200)"));
}

TEST_CASE("SideRun: the old run crashing while it serves is not restarted; its leftovers are stopped") {
    Policy p;
    SideRun clean("web", Run{old_pid, TimePoint{}, true, true}, SideRun::Role::serving);
    const auto gone = clean.main_exited(TimePoint{}, ExitStatus::exited(3), true, p);
    CHECK(gone.send_signal == 0);
    CHECK(clean.over());
    CHECK(contains(gone.message, "exited (exit 3) during the overlapping restart; not restarted"));

    SideRun messy("web", Run{old_pid, TimePoint{}, true, true}, SideRun::Role::serving);
    const auto left = messy.main_exited(TimePoint{}, ExitStatus::killed(SIGSEGV), false, p);
    CHECK(left.send_signal == SIGTERM);
    CHECK_FALSE(left.stop);  // no main process for a stop_command to talk to
    CHECK(left.arm);
    CHECK(messy.role() == SideRun::Role::draining);
    CHECK(contains(left.message, "stopping what it left behind"));
    CHECK(messy.main_exited(TimePoint{}, ExitStatus::exited(0), true, p).message.empty());  // reported once
}

TEST_CASE("overlap_step") {
    CHECK(overlap_step(State::starting, false, false) == OverlapStep::wait);
    CHECK(overlap_step(State::running, false, false) == OverlapStep::wait);  // healthcheck still to pass
    CHECK(overlap_step(State::running, true, false) == OverlapStep::drain_old);
    CHECK(overlap_step(State::running, true, true) == OverlapStep::drain_old);
    CHECK(overlap_step(State::starting, false, true) == OverlapStep::abandon_new);
    CHECK(overlap_step(State::backoff, false, false) == OverlapStep::abandon_new);
    CHECK(overlap_step(State::fatal, false, false) == OverlapStep::abandon_new);
    CHECK(overlap_step(State::exited, false, false) == OverlapStep::abandon_new);
}
