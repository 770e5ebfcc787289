// The service state machine, driven by hand: no processes, no real clock.
// Times are TimePoints made up by a FakeClock that only moves when told.
#include <doctest/doctest.h>

#include <cerrno>
#include <csignal>
#include <string>
#include <tuple>
#include <vector>

#include "service_state.hpp"

using foster::Millis;
using namespace foster::service;

namespace {

struct FakeClock {
    TimePoint now{};
    TimePoint advance(Millis by) { return now += by; }
};

constexpr int pid = 4242;

// The defaults, with the start limit off unless a test wants it.
Policy policy_without_limit() {
    Policy p;
    p.start_limit_burst = 0;
    return p;
}

// start_requested + spawned + exec_succeeded: a simple service is running.
void bring_up(StateMachine& m, FakeClock& clock) {
    m.start_requested(clock.now);
    m.spawned(clock.now, pid);
    m.exec_succeeded(clock.now);
    REQUIRE(m.state() == State::running);
}

// A run of `length` that ends with `status`, its group empty at once.
Actions run_and_exit(StateMachine& m, FakeClock& clock, Millis length, ExitStatus status) {
    m.spawned(clock.now, pid);
    m.exec_succeeded(clock.now);
    m.ready_notified(clock.now);
    clock.advance(length);
    return m.process_exited(clock.now, status, true);
}

// From backoff: wait out the deadline and fire the timer.
Actions wait_out_backoff(StateMachine& m, FakeClock& clock) {
    REQUIRE(m.state() == State::backoff);
    REQUIRE(m.deadline());
    clock.now = *m.deadline();
    return m.timer_fired(clock.now);
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("states and events have the names users see") {
    CHECK(std::string(state_name(State::stopped)) == "stopped");
    CHECK(std::string(state_name(State::starting)) == "starting");
    CHECK(std::string(state_name(State::running)) == "running");
    CHECK(std::string(state_name(State::backoff)) == "backoff");
    CHECK(std::string(state_name(State::stopping)) == "stopping");
    CHECK(std::string(state_name(State::exited)) == "exited");
    CHECK(std::string(state_name(State::fatal)) == "fatal");
    CHECK(std::string(event_name(EventKind::process_exited)) == "process_exited");
    CHECK(std::string(event_name(EventKind::healthy)) == "healthy");
}

TEST_CASE("exit status: the code, or 128 + the signal") {
    CHECK(ExitStatus::exited(3).code() == 3);
    CHECK(ExitStatus::killed(SIGKILL).code() == 137);
    CHECK(ExitStatus::killed(SIGSEGV).code() == 139);
}

TEST_CASE("a simple service: stopped -> starting -> running, ready once exec succeeded") {
    FakeClock clock;
    StateMachine m("web", Policy{});
    CHECK(m.is_down());

    const auto start = m.start_requested(clock.now);
    CHECK(start.spawn);
    CHECK(start.from == State::stopped);
    CHECK(start.to == State::starting);
    CHECK(start.message == "web: stopped → starting");
    CHECK_FALSE(start.became_ready);

    clock.advance(Millis{5});
    const auto spawned = m.spawned(clock.now, pid);
    CHECK(m.state() == State::starting);
    CHECK_FALSE(spawned.spawn);
    CHECK(m.pid() == pid);
    CHECK(m.process_group() == pid);
    CHECK(m.started_at() == clock.now);

    const auto exec = m.exec_succeeded(clock.now);
    CHECK(exec.to == State::running);
    CHECK(exec.became_ready);
    CHECK(exec.message == "web: starting → running");
    CHECK_FALSE(m.is_down());
}

TEST_CASE("a notify service is ready at READY=1, not at exec") {
    FakeClock clock;
    Policy p;
    p.type = Type::notify;
    StateMachine m("db", p);
    m.start_requested(clock.now);
    m.spawned(clock.now, pid);

    const auto exec = m.exec_succeeded(clock.now);
    CHECK(exec.none());
    CHECK(m.state() == State::starting);

    const auto ready = m.ready_notified(clock.advance(Millis{300}));
    CHECK(ready.to == State::running);
    CHECK(ready.became_ready);

    // A second READY=1 changes nothing.
    CHECK(m.ready_notified(clock.now).none());
}

TEST_CASE("READY=1 from a service that is not of type notify is ignored") {
    FakeClock clock;
    StateMachine m("web", Policy{});
    m.start_requested(clock.now);
    m.spawned(clock.now, pid);
    CHECK(m.ready_notified(clock.now).none());
    CHECK(m.state() == State::starting);
}

TEST_CASE("oneshot: ready when it exits with a success code, and ends exited") {
    FakeClock clock;
    Policy p;
    p.type = Type::oneshot;
    p.success_exit_codes = {0, 2};

    SUBCASE("success") {
        p.restart = Restart::always;  // a oneshot that succeeded is done, whatever `restart`
        StateMachine m("migrate", p);
        m.start_requested(clock.now);
        m.spawned(clock.now, pid);
        CHECK(m.exec_succeeded(clock.now).none());  // still running its course
        CHECK(m.state() == State::starting);
        const auto a = m.process_exited(clock.advance(Millis{50}), ExitStatus::exited(2), true);
        CHECK(a.to == State::exited);
        CHECK(a.became_ready);
        CHECK_FALSE(a.spawn);
        CHECK(a.timer == Actions::Timer::keep);
        CHECK(m.exit_status() == 2);
        CHECK(m.is_down());
    }
    SUBCASE("failure follows the restart policy") {
        StateMachine m("migrate", p);  // on-failure
        m.start_requested(clock.now);
        m.spawned(clock.now, pid);
        const auto a = m.process_exited(clock.advance(Millis{50}), ExitStatus::exited(1), true);
        CHECK(a.to == State::backoff);
        CHECK_FALSE(a.became_ready);
        CHECK(a.timer == Actions::Timer::arm);
    }
    SUBCASE("failure with restart = no ends exited, not ready") {
        p.restart = Restart::no;
        StateMachine m("migrate", p);
        m.start_requested(clock.now);
        m.spawned(clock.now, pid);
        const auto a = m.process_exited(clock.advance(Millis{50}), ExitStatus::exited(1), true);
        CHECK(a.to == State::exited);
        CHECK_FALSE(a.became_ready);
        CHECK(m.exit_status() == 1);
    }
    SUBCASE("exited can be started again") {
        StateMachine m("migrate", p);
        m.start_requested(clock.now);
        m.spawned(clock.now, pid);
        m.process_exited(clock.now, ExitStatus::exited(0), true);
        REQUIRE(m.state() == State::exited);
        const auto a = m.start_requested(clock.advance(Millis{1}));
        CHECK(a.spawn);
        CHECK(a.to == State::starting);
    }
}

TEST_CASE("restart policy x how the run ended") {
    struct Case {
        Restart restart;
        ExitStatus status;
        State expected;
    };
    const Case cases[] = {
        {Restart::no, ExitStatus::exited(0), State::exited},
        {Restart::no, ExitStatus::exited(1), State::exited},
        {Restart::no, ExitStatus::killed(SIGSEGV), State::exited},
        {Restart::on_failure, ExitStatus::exited(0), State::exited},
        {Restart::on_failure, ExitStatus::exited(3), State::exited},  // in success_exit_codes
        {Restart::on_failure, ExitStatus::exited(1), State::backoff},
        {Restart::on_failure, ExitStatus::killed(SIGSEGV), State::backoff},
        // A signal death is a failure even when its number is a success code.
        {Restart::on_failure, ExitStatus::killed(3), State::backoff},
        {Restart::always, ExitStatus::exited(0), State::backoff},
        {Restart::always, ExitStatus::exited(1), State::backoff},
        {Restart::always, ExitStatus::killed(SIGKILL), State::backoff},
    };
    for (const auto& c : cases) {
        CAPTURE(static_cast<int>(c.restart));
        CAPTURE(c.status.code());
        FakeClock clock;
        Policy p = policy_without_limit();
        p.restart = c.restart;
        p.success_exit_codes = {0, 3};
        StateMachine m("web", p);
        bring_up(m, clock);
        const auto a = m.process_exited(clock.advance(Millis{2000}), c.status, true);
        CHECK(a.to == c.expected);
        CHECK(m.exit_status() == c.status.code());
        CHECK(a.spawn == false);
        CHECK(a.went_fatal == false);
        CHECK(a.timer == (c.expected == State::backoff ? Actions::Timer::arm : Actions::Timer::keep));
        CHECK_FALSE(m.pid());
    }
}

TEST_CASE("backoff doubles for short runs, is capped, and a long run resets it") {
    FakeClock clock;
    Policy p = policy_without_limit();
    p.restart = Restart::always;
    p.restart_delay = Millis{100};
    p.restart_delay_max = Millis{1000};
    p.min_uptime = Millis{1000};
    StateMachine m("web", p);
    m.start_requested(clock.now);

    const long expected[] = {100, 200, 400, 800, 1000, 1000};
    for (long delay : expected) {
        CAPTURE(delay);
        // Short runs, whatever their exit status.
        const auto a = run_and_exit(m, clock, Millis{999}, ExitStatus::exited(0));
        REQUIRE(a.to == State::backoff);
        CHECK(a.timer == Actions::Timer::arm);
        CHECK(a.deadline == clock.now + Millis{delay});
        CHECK(m.deadline() == clock.now + Millis{delay});
        wait_out_backoff(m, clock);
    }

    // A run of exactly min_uptime resets the backoff.
    auto a = run_and_exit(m, clock, Millis{1000}, ExitStatus::exited(1));
    CHECK(a.deadline == clock.now + Millis{100});
    wait_out_backoff(m, clock);
    a = run_and_exit(m, clock, Millis{10}, ExitStatus::exited(1));
    CHECK(a.deadline == clock.now + Millis{200});
}

TEST_CASE("a restart_delay above the cap is capped") {
    FakeClock clock;
    Policy p = policy_without_limit();
    p.restart_delay = Millis{5000};
    p.restart_delay_max = Millis{2000};
    StateMachine m("web", p);
    m.start_requested(clock.now);
    const auto a = run_and_exit(m, clock, Millis{10}, ExitStatus::exited(1));
    CHECK(a.deadline == clock.now + Millis{2000});
}

TEST_CASE("backoff waits for its deadline; restarts counts automatic restarts") {
    FakeClock clock;
    StateMachine m("web", policy_without_limit());
    bring_up(m, clock);
    const auto crash = m.process_exited(clock.advance(Millis{10}), ExitStatus::exited(1), true);
    REQUIRE(crash.to == State::backoff);
    CHECK(m.restarts() == 0);

    // A timer that fires early (or a stale one) changes nothing.
    CHECK(m.timer_fired(clock.advance(Millis{99})).none());
    CHECK(m.state() == State::backoff);

    const auto restart = m.timer_fired(clock.advance(Millis{1}));
    CHECK(restart.spawn);
    CHECK(restart.to == State::starting);
    CHECK(restart.message == "web: backoff → starting (restart 1)");
    CHECK(m.restarts() == 1);
    CHECK_FALSE(m.deadline());

    // The timer is spent: firing again does nothing.
    CHECK(m.timer_fired(clock.advance(Millis{1000})).none());

    run_and_exit(m, clock, Millis{10}, ExitStatus::killed(SIGSEGV));
    wait_out_backoff(m, clock);
    CHECK(m.restarts() == 2);
    CHECK(m.exit_status() == 139);
}

TEST_CASE("start limit: the restart that would make burst + 1 starts within the interval is fatal") {
    FakeClock clock;
    Policy p;  // burst 5 within 10s
    p.restart_delay = Millis{100};
    p.restart_delay_max = Millis{100};
    StateMachine m("web", p);
    m.start_requested(clock.now);  // start 1

    for (int start = 1; start < 5; ++start) {
        CAPTURE(start);
        const auto a = run_and_exit(m, clock, Millis{10}, ExitStatus::exited(1));
        CHECK(a.to == State::backoff);
        CHECK_FALSE(a.went_fatal);
        wait_out_backoff(m, clock);  // starts 2..5
    }
    CHECK(m.restarts() == 4);

    const auto a = run_and_exit(m, clock, Millis{10}, ExitStatus::exited(1));
    CHECK(a.to == State::fatal);
    CHECK(a.went_fatal);
    CHECK_FALSE(a.spawn);
    CHECK(a.timer == Actions::Timer::keep);
    CHECK(contains(a.message, "web: running → fatal (exit 1), start limit reached (5 starts within 10s)"));
    CHECK(m.is_down());

    // Not restarted until asked.
    CHECK(m.timer_fired(clock.advance(Millis{60'000})).none());
    CHECK(m.state() == State::fatal);

    const auto again = m.start_requested(clock.now);
    CHECK(again.to == State::starting);
    CHECK(again.spawn);
    CHECK(m.restarts() == 0);
    // And a fresh history: the next crash is an ordinary backoff.
    CHECK(run_and_exit(m, clock, Millis{10}, ExitStatus::exited(1)).to == State::backoff);
}

TEST_CASE("start limit: starts spread out over more than the interval never reach it") {
    FakeClock clock;
    Policy p;
    p.start_limit_burst = 3;
    p.start_limit_interval = Millis{10'000};
    p.restart_delay = Millis{3000};
    p.restart_delay_max = Millis{3000};
    p.min_uptime = Millis{60'000};  // every run is short: no reset helps
    StateMachine m("web", p);
    m.start_requested(clock.now);
    // A start every 3.5s: never more than 3 within 10s.
    for (int i = 0; i < 10; ++i) {
        const auto a = run_and_exit(m, clock, Millis{500}, ExitStatus::exited(1));
        REQUIRE(a.to == State::backoff);
        wait_out_backoff(m, clock);
    }
    CHECK(m.restarts() == 10);

    // The same with a window of 11s holds 4 starts: fatal.
    p.start_limit_interval = Millis{11'000};
    StateMachine tight("web", p);
    FakeClock clock2;
    tight.start_requested(clock2.now);
    State last = State::starting;
    for (int i = 0; i < 10 && last != State::fatal; ++i) {
        last = run_and_exit(tight, clock2, Millis{500}, ExitStatus::exited(1)).to;
        if (last == State::backoff) wait_out_backoff(tight, clock2);
    }
    CHECK(last == State::fatal);
}

TEST_CASE("start times are kept only within the start limit's window, and not at all without a limit") {
    for (const auto& [burst, interval, most] :
         {std::tuple{0U, Millis{10'000}, std::size_t{0}}, std::tuple{5U, Millis{0}, std::size_t{0}},
          std::tuple{1'000'000U, Millis{2'000}, std::size_t{21}}}) {
        CAPTURE(burst);
        FakeClock clock;
        Policy p;
        p.start_limit_burst = burst;
        p.start_limit_interval = interval;
        p.restart_delay = Millis{100};
        p.restart_delay_max = Millis{100};
        p.min_uptime = Millis{60'000};  // never a reset: every run is short
        StateMachine m("crasher", p);
        m.start_requested(clock.now);
        for (int i = 0; i < 2000; ++i) {
            REQUIRE(run_and_exit(m, clock, Millis{0}, ExitStatus::exited(1)).to == State::backoff);
            wait_out_backoff(m, clock);
        }
        CHECK(m.restarts() == 2000);
        CHECK(m.remembered_starts() <= most);
    }
}

TEST_CASE("a run of at least min_uptime resets the start-limit count") {
    FakeClock clock;
    Policy p;
    p.start_limit_burst = 3;
    p.restart_delay = Millis{100};
    p.restart_delay_max = Millis{100};
    StateMachine m("web", p);
    m.start_requested(clock.now);
    run_and_exit(m, clock, Millis{10}, ExitStatus::exited(1));
    wait_out_backoff(m, clock);
    run_and_exit(m, clock, Millis{10}, ExitStatus::exited(1));
    wait_out_backoff(m, clock);
    // Third start; without the reset, a fourth start would be fatal.
    const auto a = run_and_exit(m, clock, Millis{1000}, ExitStatus::exited(1));
    CHECK(a.to == State::backoff);
    wait_out_backoff(m, clock);
    CHECK(run_and_exit(m, clock, Millis{10}, ExitStatus::exited(1)).to == State::backoff);
}

TEST_CASE("stop: stop_signal to the group, stopped once the main process and the group are gone") {
    FakeClock clock;
    Policy p;
    p.restart = Restart::always;  // a requested stop never restarts
    p.stop_signal = SIGINT;
    p.stop_timeout = Millis{5000};
    StateMachine m("web", p);
    bring_up(m, clock);

    const auto stop = m.stop_requested(clock.advance(Millis{10'000}));
    CHECK(stop.to == State::stopping);
    CHECK(stop.send_signal == SIGINT);
    CHECK(stop.timer == Actions::Timer::arm);
    CHECK(stop.deadline == clock.now + Millis{5000});
    CHECK(stop.message == "web: running → stopping (SIGINT)");

    // The main process goes; another of its group lingers.
    const auto main_gone = m.process_exited(clock.advance(Millis{20}), ExitStatus::killed(SIGINT), false);
    CHECK(main_gone.none());
    CHECK(m.state() == State::stopping);
    CHECK_FALSE(m.pid());
    CHECK(m.process_group() == pid);
    CHECK(m.waiting_for_group());

    const auto done = m.group_empty(clock.advance(Millis{20}));
    CHECK(done.to == State::stopped);
    CHECK(done.timer == Actions::Timer::cancel);
    CHECK_FALSE(done.spawn);
    CHECK_FALSE(m.process_group());
    CHECK_FALSE(m.waiting_for_group());
    CHECK_FALSE(m.needed_kill());
    CHECK(m.exit_status() == 128 + SIGINT);
    CHECK(m.is_down());
}

TEST_CASE("stop: the group may empty before the main process is reaped") {
    FakeClock clock;
    StateMachine m("web", Policy{});
    bring_up(m, clock);
    m.stop_requested(clock.now);
    CHECK(m.group_empty(clock.now).none());
    const auto done = m.process_exited(clock.now, ExitStatus::exited(0), true);
    CHECK(done.to == State::stopped);
    CHECK(done.message == "web: stopping → stopped (exit 0)");
}

TEST_CASE("an exit while stopping is not a failure and does not restart") {
    FakeClock clock;
    Policy p;
    p.restart = Restart::always;
    StateMachine m("web", p);
    bring_up(m, clock);
    m.stop_requested(clock.now);
    const auto a = m.process_exited(clock.advance(Millis{10}), ExitStatus::exited(1), true);
    CHECK(a.to == State::stopped);
    CHECK(a.timer == Actions::Timer::cancel);
    CHECK_FALSE(a.spawn);
    CHECK_FALSE(a.went_fatal);
    CHECK(m.timer_fired(clock.advance(Millis{60'000})).none());
}

TEST_CASE("stop escalates to SIGKILL after stop_timeout and remembers it") {
    FakeClock clock;
    Policy p;
    p.stop_timeout = Millis{2000};
    StateMachine m("web", p);
    bring_up(m, clock);
    m.stop_requested(clock.now);

    CHECK(m.timer_fired(clock.advance(Millis{1999})).none());
    CHECK_FALSE(m.needed_kill());

    const auto kill = m.timer_fired(clock.advance(Millis{1}));
    CHECK(kill.send_signal == SIGKILL);
    CHECK(kill.to == State::stopping);
    CHECK(kill.message == "web: still running 2s after SIGTERM, sending SIGKILL");
    CHECK(m.needed_kill());
    CHECK(m.timer_fired(clock.advance(Millis{2000})).none());  // only once

    const auto done = m.process_exited(clock.now, ExitStatus::killed(SIGKILL), true);
    CHECK(done.to == State::stopped);
    CHECK(m.needed_kill());  // still known after the stop
    CHECK(m.exit_status() == 137);

    // The next stop starts with a clean slate.
    bring_up(m, clock);
    m.stop_requested(clock.now);
    CHECK_FALSE(m.needed_kill());
    m.process_exited(clock.now, ExitStatus::exited(0), true);
    CHECK(m.state() == State::stopped);
    CHECK_FALSE(m.needed_kill());
}

TEST_CASE("kill_requested: SIGKILL at once from every state with a process") {
    FakeClock clock;
    SUBCASE("running") {
        StateMachine m("web", Policy{});
        bring_up(m, clock);
        const auto a = m.kill_requested(clock.now);
        CHECK(a.to == State::stopping);
        CHECK(a.send_signal == SIGKILL);
        CHECK(a.timer == Actions::Timer::keep);
        CHECK(m.needed_kill());
        CHECK(m.process_exited(clock.now, ExitStatus::killed(SIGKILL), true).to == State::stopped);
    }
    SUBCASE("starting") {
        Policy p;
        p.type = Type::notify;
        StateMachine m("db", p);
        m.start_requested(clock.now);
        m.spawned(clock.now, pid);
        const auto a = m.kill_requested(clock.now);
        CHECK(a.to == State::stopping);
        CHECK(a.send_signal == SIGKILL);
    }
    SUBCASE("stopping: skips the rest of stop_timeout") {
        StateMachine m("web", Policy{});
        bring_up(m, clock);
        m.stop_requested(clock.now);
        const auto a = m.kill_requested(clock.advance(Millis{100}));
        CHECK(a.send_signal == SIGKILL);
        CHECK(a.timer == Actions::Timer::cancel);
        CHECK(m.needed_kill());
        CHECK(m.kill_requested(clock.now).none());  // once is enough
    }
    SUBCASE("backoff: stopped at once") {
        StateMachine m("web", Policy{});
        bring_up(m, clock);
        m.process_exited(clock.now, ExitStatus::exited(1), true);
        const auto a = m.kill_requested(clock.now);
        CHECK(a.to == State::stopped);
        CHECK(a.send_signal == 0);
        CHECK(a.timer == Actions::Timer::cancel);
    }
    SUBCASE("after the stop timer already sent SIGKILL: nothing more") {
        StateMachine m("web", Policy{});
        bring_up(m, clock);
        m.stop_requested(clock.now);
        m.timer_fired(clock.advance(Millis{10'000}));
        CHECK(m.kill_requested(clock.now).none());
    }
}

TEST_CASE("stop during backoff stops at once and the restart never comes") {
    FakeClock clock;
    StateMachine m("web", Policy{});
    bring_up(m, clock);
    m.process_exited(clock.advance(Millis{10}), ExitStatus::exited(1), true);
    REQUIRE(m.state() == State::backoff);
    const auto a = m.stop_requested(clock.advance(Millis{10}));
    CHECK(a.to == State::stopped);
    CHECK(a.timer == Actions::Timer::cancel);
    CHECK(a.send_signal == 0);
    CHECK_FALSE(a.spawn);
    CHECK_FALSE(m.deadline());
    CHECK(m.timer_fired(clock.advance(Millis{1000})).none());
    CHECK(m.state() == State::stopped);
}

TEST_CASE("start during backoff starts at once, with a fresh count") {
    FakeClock clock;
    StateMachine m("web", Policy{});
    bring_up(m, clock);
    run_and_exit(m, clock, Millis{10}, ExitStatus::exited(1));
    wait_out_backoff(m, clock);
    run_and_exit(m, clock, Millis{10}, ExitStatus::exited(1));
    REQUIRE(m.restarts() == 1);
    CHECK(m.next_delay() == Millis{400});
    const auto a = m.start_requested(clock.advance(Millis{1}));
    CHECK(a.to == State::starting);
    CHECK(a.spawn);
    CHECK(a.timer == Actions::Timer::cancel);
    CHECK(m.restarts() == 0);
    CHECK(m.next_delay() == Millis{100});
}

TEST_CASE("stop before the spawn was reported: stopped at once") {
    FakeClock clock;
    StateMachine m("web", Policy{});
    m.start_requested(clock.now);
    const auto a = m.stop_requested(clock.now);
    CHECK(a.to == State::stopped);
    CHECK(a.send_signal == 0);
}

TEST_CASE("stop while starting signals the process") {
    FakeClock clock;
    Policy p;
    p.type = Type::oneshot;
    StateMachine m("migrate", p);
    m.start_requested(clock.now);
    m.spawned(clock.now, pid);
    m.exec_succeeded(clock.now);
    const auto a = m.stop_requested(clock.now);
    CHECK(a.to == State::stopping);
    CHECK(a.send_signal == SIGTERM);
    const auto done = m.process_exited(clock.now, ExitStatus::killed(SIGTERM), true);
    CHECK(done.to == State::stopped);
    CHECK_FALSE(done.became_ready);
}

TEST_CASE("exec failure: fatal once the child has exited, whatever `restart`") {
    FakeClock clock;
    Policy p;
    p.restart = Restart::always;
    StateMachine m("web", p);
    m.start_requested(clock.now);
    m.spawned(clock.now, pid);

    CHECK(m.exec_failed(clock.now, ENOENT).none());
    CHECK(m.state() == State::starting);  // the child is still there
    CHECK(m.exec_succeeded(clock.now).none());  // cannot be both

    const auto a = m.process_exited(clock.now, ExitStatus::exited(127), true);
    CHECK(a.to == State::fatal);
    CHECK(a.went_fatal);
    CHECK_FALSE(a.spawn);
    CHECK(a.timer == Actions::Timer::keep);
    CHECK(a.message == "web: starting → fatal (exit 127), could not be executed: No such file or directory");
    CHECK(m.exit_status() == 127);
    CHECK(m.exec_error() == ENOENT);
    CHECK(m.timer_fired(clock.advance(Millis{60'000})).none());

    const auto start = m.start_requested(clock.now);
    CHECK(start.to == State::starting);
    CHECK(start.spawn);
    m.spawned(clock.now, pid + 1);
    CHECK_FALSE(m.exec_error());
    CHECK(m.exec_succeeded(clock.now).to == State::running);
}

TEST_CASE("a failed spawn is retried after a backoff, never fatal and never counted") {
    FakeClock clock;
    Policy p;
    p.restart = Restart::no;    // a spawn that failed is not a run that ended
    p.start_limit_burst = 1;    // and not a start
    StateMachine m("web", p);
    m.start_requested(clock.now);

    const long expected[] = {100, 200, 400, 800};
    for (long delay : expected) {
        const auto a = m.spawn_failed(clock.now, EAGAIN);
        CHECK(a.to == State::backoff);
        CHECK_FALSE(a.went_fatal);
        CHECK(a.deadline == clock.now + Millis{delay});
        CHECK(contains(a.message, "web: starting → backoff (cannot start: "));
        CHECK(contains(a.message, "retry in " + std::to_string(delay) + "ms"));
        const auto retry = wait_out_backoff(m, clock);
        CHECK(retry.spawn);
    }
    CHECK(m.restarts() == 4);
    m.spawned(clock.now, pid);
    CHECK(m.exec_succeeded(clock.now).to == State::running);
}

TEST_CASE("processes left behind by a run are stopped before the restart") {
    FakeClock clock;
    Policy p;
    p.stop_timeout = Millis{3000};
    StateMachine m("web", p);
    bring_up(m, clock);

    const auto crash = m.process_exited(clock.advance(Millis{10}), ExitStatus::exited(1), false);
    CHECK(crash.to == State::stopping);
    CHECK(crash.send_signal == SIGTERM);
    CHECK(crash.deadline == clock.now + Millis{3000});
    CHECK(crash.message == "web: running → stopping (exit 1), stopping the processes it left behind");
    CHECK(m.waiting_for_group());
    CHECK(m.exit_status() == 1);

    SUBCASE("they go: backoff counted from then") {
        const auto gone = m.group_empty(clock.advance(Millis{50}));
        CHECK(gone.to == State::backoff);
        CHECK(gone.timer == Actions::Timer::arm);
        CHECK(gone.deadline == clock.now + Millis{100});
        CHECK(gone.message == "web: stopping → backoff, restart in 100ms");
        CHECK(m.exit_status() == 1);  // the run's status, not the leftovers'
    }
    SUBCASE("they need SIGKILL") {
        const auto kill = m.timer_fired(clock.advance(Millis{3000}));
        CHECK(kill.send_signal == SIGKILL);
        CHECK(m.group_empty(clock.now).to == State::backoff);
    }
    SUBCASE("a stop requested meanwhile cancels the restart") {
        CHECK_FALSE(m.stop_requested(clock.now).none());
        const auto gone = m.group_empty(clock.now);
        CHECK(gone.to == State::stopped);
        CHECK(gone.timer == Actions::Timer::cancel);
    }
}

TEST_CASE("a oneshot's leftovers are gone before it counts as ready") {
    FakeClock clock;
    Policy p;
    p.type = Type::oneshot;
    StateMachine m("migrate", p);
    m.start_requested(clock.now);
    m.spawned(clock.now, pid);
    const auto exit = m.process_exited(clock.now, ExitStatus::exited(0), false);
    CHECK(exit.to == State::stopping);
    CHECK_FALSE(exit.became_ready);
    const auto gone = m.group_empty(clock.now);
    CHECK(gone.to == State::exited);
    CHECK(gone.became_ready);
}

TEST_CASE("a notify service that crashes before READY=1 leaving processes behind") {
    FakeClock clock;
    Policy p;
    p.type = Type::notify;
    StateMachine m("db", p);
    m.start_requested(clock.now);
    m.spawned(clock.now, pid);
    m.exec_succeeded(clock.now);
    const auto a = m.process_exited(clock.now, ExitStatus::killed(SIGABRT), false);
    CHECK(a.to == State::stopping);
    CHECK(a.send_signal == SIGTERM);
    CHECK(m.group_empty(clock.now).to == State::backoff);
}

TEST_CASE("the main process leaving its group is noted, not a reason to stop") {
    FakeClock clock;
    StateMachine m("web", policy_without_limit());
    bring_up(m, clock);
    CHECK(m.group_empty(clock.now).none());
    CHECK(m.state() == State::running);
    // Its exit then needs no cleanup, even if the supervisor's check says otherwise.
    CHECK(m.process_exited(clock.now, ExitStatus::exited(1), false).to == State::backoff);
}

TEST_CASE("restart by hand: start during stopping starts again once stopped") {
    FakeClock clock;
    StateMachine m("web", Policy{});
    bring_up(m, clock);
    m.stop_requested(clock.now);
    const auto start = m.start_requested(clock.now);
    CHECK(start.to == State::stopping);
    CHECK_FALSE(start.spawn);
    CHECK(start.message == "web: stopping, will start again once stopped");
    CHECK(m.start_requested(clock.now).none());  // already planned

    SUBCASE("the stop completes") {
        const auto a = m.process_exited(clock.advance(Millis{30}), ExitStatus::killed(SIGTERM), true);
        CHECK(a.to == State::starting);
        CHECK(a.spawn);
        CHECK(a.timer == Actions::Timer::cancel);
        CHECK(m.restarts() == 0);
    }
    SUBCASE("a stop after that cancels the start again") {
        const auto stop = m.stop_requested(clock.now);
        CHECK(stop.message == "web: stopping, will not start again");
        CHECK(m.stop_requested(clock.now).none());
        const auto a = m.process_exited(clock.now, ExitStatus::killed(SIGTERM), true);
        CHECK(a.to == State::stopped);
        CHECK_FALSE(a.spawn);
    }
    SUBCASE("kill_requested also cancels it") {
        m.kill_requested(clock.now);
        CHECK(m.process_exited(clock.now, ExitStatus::killed(SIGKILL), true).to == State::stopped);
    }
}

TEST_CASE("main service: its exit finishes foster with its status, no restart") {
    FakeClock clock;
    Policy p;
    p.is_main = true;
    p.restart = Restart::always;  // does not apply to main

    SUBCASE("exit code") {
        StateMachine m("app", p);
        bring_up(m, clock);
        const auto a = m.process_exited(clock.advance(Millis{10}), ExitStatus::exited(3), true);
        CHECK(a.to == State::exited);
        CHECK(a.finished == 3);
        CHECK_FALSE(a.spawn);
        CHECK(a.timer == Actions::Timer::keep);
    }
    SUBCASE("signal") {
        StateMachine m("app", p);
        bring_up(m, clock);
        const auto a = m.process_exited(clock.now, ExitStatus::killed(SIGTERM), true);
        CHECK(a.finished == 143);
    }
    SUBCASE("with leftovers: finished once they are gone") {
        StateMachine m("app", p);
        bring_up(m, clock);
        const auto a = m.process_exited(clock.now, ExitStatus::exited(0), false);
        CHECK(a.to == State::stopping);
        CHECK_FALSE(a.finished);
        const auto gone = m.group_empty(clock.now);
        CHECK(gone.to == State::exited);
        CHECK(gone.finished == 0);
    }
    SUBCASE("a stop that was asked for is not the main service finishing") {
        StateMachine m("app", p);
        bring_up(m, clock);
        m.stop_requested(clock.now);
        const auto a = m.process_exited(clock.now, ExitStatus::killed(SIGTERM), true);
        CHECK(a.to == State::stopped);
        CHECK_FALSE(a.finished);
    }
    SUBCASE("unhealthy: left running") {
        StateMachine m("app", p);
        bring_up(m, clock);
        const auto a = m.unhealthy(clock.now);
        CHECK(a.to == State::running);
        CHECK(a.send_signal == 0);
        CHECK(m.is_unhealthy());
    }
}

TEST_CASE("unhealthy: restarted under on-failure and always, flagged under no") {
    FakeClock clock;
    SUBCASE("on-failure: stopped, then restarted as after a failure") {
        StateMachine m("web", Policy{});
        bring_up(m, clock);
        const auto a = m.unhealthy(clock.advance(Millis{60'000}));
        CHECK(a.to == State::stopping);
        CHECK(a.send_signal == SIGTERM);
        CHECK(a.timer == Actions::Timer::arm);
        CHECK(a.message == "web: running → stopping (unhealthy, SIGTERM)");
        CHECK(m.unhealthy(clock.now).none());
        const auto gone = m.process_exited(clock.now, ExitStatus::exited(0), true);
        CHECK(gone.to == State::backoff);  // even though it exited 0
        CHECK(gone.deadline == clock.now + Millis{100});
        wait_out_backoff(m, clock);
        CHECK(m.restarts() == 1);
        CHECK_FALSE(m.is_unhealthy());
    }
    SUBCASE("always") {
        Policy p;
        p.restart = Restart::always;
        StateMachine m("web", p);
        bring_up(m, clock);
        CHECK(m.unhealthy(clock.now).to == State::stopping);
    }
    SUBCASE("no: left running, reported, healthy again later") {
        Policy p;
        p.restart = Restart::no;
        StateMachine m("web", p);
        bring_up(m, clock);
        const auto a = m.unhealthy(clock.now);
        CHECK(a.to == State::running);
        CHECK(a.send_signal == 0);
        CHECK(a.message == "web: unhealthy, left running (restart = no)");
        CHECK(m.is_unhealthy());
        CHECK(m.unhealthy(clock.now).none());
        const auto ok = m.healthy(clock.now);
        CHECK(ok.message == "web: healthy again");
        CHECK_FALSE(m.is_unhealthy());
        CHECK(m.healthy(clock.now).none());
    }
}

TEST_CASE("log lines say what happened") {
    FakeClock clock;
    StateMachine m("web", policy_without_limit());
    m.start_requested(clock.now);
    run_and_exit(m, clock, Millis{10}, ExitStatus::killed(SIGSEGV));
    wait_out_backoff(m, clock);
    run_and_exit(m, clock, Millis{10}, ExitStatus::exited(1));
    wait_out_backoff(m, clock);
    const auto a = run_and_exit(m, clock, Millis{10}, ExitStatus::exited(1));
    CHECK(a.message == "web: running → backoff (exit 1), restart in 400ms");

    StateMachine n("db", policy_without_limit());
    n.start_requested(clock.now);
    CHECK(run_and_exit(n, clock, Millis{10}, ExitStatus::killed(SIGSEGV)).message ==
          "db: running → backoff (killed by SIGSEGV), restart in 100ms");
}

TEST_CASE("a new policy applies from the next decision") {
    FakeClock clock;
    StateMachine m("web", policy_without_limit());
    bring_up(m, clock);
    Policy p = policy_without_limit();
    p.restart = Restart::no;
    m.set_policy(p);
    CHECK(m.process_exited(clock.now, ExitStatus::exited(1), true).to == State::exited);
}

// Every event that the table does not list for a state: no actions, no change.
TEST_CASE("events that make no sense in a state are ignored") {
    FakeClock clock;
    clock.now = TimePoint{} + Millis{1'000'000};

    auto in_state = [&](State s) {
        Policy p;
        auto m = StateMachine("web", p);
        switch (s) {
        case State::stopped:
            break;
        case State::starting:
            m.start_requested(clock.now);
            m.spawned(clock.now, pid);
            break;
        case State::running:
            bring_up(m, clock);
            break;
        case State::backoff:
            bring_up(m, clock);
            m.process_exited(clock.now, ExitStatus::exited(1), true);
            break;
        case State::stopping:
            bring_up(m, clock);
            m.stop_requested(clock.now);
            break;
        case State::exited:
            p.restart = Restart::no;
            m = StateMachine("web", p);
            bring_up(m, clock);
            m.process_exited(clock.now, ExitStatus::exited(0), true);
            break;
        case State::fatal:
            m.start_requested(clock.now);
            m.spawned(clock.now, pid);
            m.exec_failed(clock.now, ENOENT);
            m.process_exited(clock.now, ExitStatus::exited(127), true);
            break;
        }
        REQUIRE(m.state() == s);
        return m;
    };

    using E = EventKind;
    struct Ignored {
        State state;
        std::vector<EventKind> events;
    };
    const std::vector<EventKind> all = {
        E::start_requested, E::stop_requested, E::kill_requested, E::spawned,
        E::spawn_failed,    E::exec_failed,    E::exec_succeeded, E::ready_notified,
        E::process_exited,  E::group_empty,    E::timer_fired,    E::unhealthy,
        E::healthy,
    };
    auto all_but = [&](EventKind keep) {
        std::vector<EventKind> out;
        for (auto e : all)
            if (e != keep) out.push_back(e);
        return out;
    };
    const Ignored table[] = {
        {State::stopped, all_but(E::start_requested)},
        {State::starting,
         {E::start_requested, E::spawned, E::spawn_failed, E::ready_notified, E::timer_fired,
          E::unhealthy, E::healthy}},
        {State::running,
         {E::start_requested, E::spawned, E::spawn_failed, E::exec_failed, E::exec_succeeded,
          E::ready_notified, E::timer_fired, E::healthy}},
        // timer_fired here comes before the deadline.
        {State::backoff,
         {E::spawned, E::spawn_failed, E::exec_failed, E::exec_succeeded, E::ready_notified,
          E::process_exited, E::group_empty, E::timer_fired, E::unhealthy, E::healthy}},
        {State::stopping,
         {E::stop_requested, E::spawned, E::spawn_failed, E::exec_failed, E::exec_succeeded,
          E::ready_notified, E::timer_fired, E::unhealthy, E::healthy}},
        {State::exited, all_but(E::start_requested)},
        {State::fatal, all_but(E::start_requested)},
    };
    for (const auto& row : table) {
        for (auto kind : row.events) {
            CAPTURE(state_name(row.state));
            CAPTURE(event_name(kind));
            auto m = in_state(row.state);
            const auto pid_before = m.pid();
            const auto deadline_before = m.deadline();
            const auto a = m.handle({.kind = kind,
                                     .now = clock.now,
                                     .number = 999,
                                     .status = ExitStatus::exited(1),
                                     .group_empty = true});
            CHECK(a.none());
            CHECK(a.from == row.state);
            CHECK(a.to == row.state);
            CHECK(m.state() == row.state);
            CHECK(m.pid() == pid_before);
            CHECK(m.deadline() == deadline_before);
        }
    }

    // An event number out of range is ignored too.
    auto m = in_state(State::running);
    CHECK(m.handle({.kind = static_cast<EventKind>(99), .now = clock.now}).none());
    CHECK(m.state() == State::running);
}
