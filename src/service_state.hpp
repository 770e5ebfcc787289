// service_state.hpp — the life of one service, as a state machine made of data.
//
// The machine knows nothing of processes, pipes or clocks: the supervisor
// tells it what happened (an event, with the time it happened) and it answers
// with what the supervisor must do (Actions: spawn, signal the process group,
// arm or cancel the service's one timer, announce readiness, ...). It makes no
// system call and reads no global, so the unit tests drive it with time points
// they make up (tests/unit/test_service_state.cpp).
//
// Every combination of state and event is in the table below; an event that is
// not listed for a state is ignored: it returns Actions with none() true and
// changes nothing. Nothing here asserts or throws on a surprising event: a
// late timer, a second READY=1 or an exit report for a process that is already
// accounted for are all normal in a busy event loop.
//
//  state     event            condition                   -> next     actions / effect
//  --------  ---------------  --------------------------  ---------  ----------------------------
//  stopped   start_requested                              starting   spawn
//  exited    start_requested                              starting   spawn
//  fatal     start_requested                              starting   spawn (clears fatal)
//  backoff   start_requested                              starting   cancel timer, spawn
//     (each of the four resets restarts, the backoff and the start-limit history)
//  stopping  start_requested                              stopping   after the stop: start again
//  starting  stop_requested   spawn not reported yet      stopped
//  starting  stop_requested                               stopping   signal stop_signal,
//  running   stop_requested                               stopping     arm stop_timeout
//  backoff   stop_requested                               stopped    cancel timer
//  stopping  stop_requested   a start was to follow       stopping   after the stop: stopped
//  starting  kill_requested   spawn not reported yet      stopped
//  starting  kill_requested                               stopping   signal SIGKILL, cancel timer
//  running   kill_requested                               stopping   signal SIGKILL, cancel timer
//  backoff   kill_requested                               stopped    cancel timer
//  stopping  kill_requested   no SIGKILL sent yet         stopping   signal SIGKILL, cancel timer;
//                                                                    after the stop: stopped
//  starting  spawned(pid)     spawn not reported yet      starting   (the run begins: pid, time)
//  starting  spawn_failed     spawn not reported yet      backoff    arm now + backoff (no start
//                                                                    counted, whatever `restart`)
//  starting  exec_failed      process alive               starting   (noted: fatal once it exits)
//  starting  exec_succeeded   type simple                 running    became_ready
//  starting  ready_notified   type notify                 running    became_ready
//  starting  process_exited   group not empty             stopping   signal stop_signal, arm
//  running   process_exited   group not empty             stopping     stop_timeout; after the
//                                                                    stop: the run's outcome
//  starting  process_exited   group empty                 (the run's outcome, below)
//  running   process_exited   group empty                 (the run's outcome, below)
//  starting  group_empty      process alive (left group)  starting   (noted)
//  running   group_empty      process alive (left group)  running    (noted)
//  backoff   timer_fired      deadline reached            starting   spawn; restarts + 1
//  stopping  timer_fired      deadline reached, no KILL   stopping   signal SIGKILL (needed_kill)
//  stopping  process_exited   group empty                 (after the stop, below)
//  stopping  group_empty      main process gone           (after the stop, below)
//  running   unhealthy        restart on-failure/always,  stopping   signal stop_signal, arm
//                             and not main                           stop_timeout; after the
//                                                                    stop: a failed run's outcome
//  running   unhealthy        otherwise                   running    (flagged unhealthy)
//  running   healthy          flagged unhealthy           running    (flag cleared)
//
//  The outcome of a run that ended without being asked to (decided when the
//  main process exits, in this order):
//    exec_failed was reported                 -> fatal     went_fatal, cancel timer
//    main = true                              -> exited    finished(exit status), cancel timer
//    oneshot with a success code              -> exited    became_ready, cancel timer
//    restart = no, or on-failure and success  -> exited    cancel timer
//    the restart would exceed the start limit -> fatal     went_fatal, cancel timer
//    otherwise                                -> backoff   arm now + backoff
//
//  After the stop (main process gone and process group empty), the state
//  recorded when the stop began: stopped (cancel timer), starting (cancel
//  timer, spawn), backoff (arm now + backoff), exited or fatal (as above).
//
//  Overlapping restarts (overlap.hpp) use two operations outside the table,
//  because each moves a whole run between the machine and the supervisor:
//    running   hand_over        main process alive         starting   spawn; the run leaves the machine
//    starting, take_back        (the run handed over)      running    cancel timer, became_ready; the
//    running,  backoff                                                 new run (if any) leaves instead
//
// Why it is shaped this way:
//
// - One run ends when its main process has exited AND its process group is
//   empty. The supervisor tracks the two separately (waitpid for the first,
//   kill(-pgid, 0) for the second), and so does the machine. A run whose main
//   process exits on its own while others of its group live on passes through
//   `stopping`: what it left behind gets stop_signal, then SIGKILL after
//   stop_timeout, before the service restarts — otherwise a crashed server's
//   workers would keep its port and every restart would pile up more of them.
//   The outcome (backoff, exited, fatal) is decided when the main process
//   exits and applied once the group is empty, so `exited`, `fatal`,
//   `stopped` and `backoff` never have a live process.
//
// - dinit keeps a current and a desired state; here the desired state matters
//   only while stopping, and is the state recorded for "after the stop". That
//   is how `fosterctl restart` and a reload that changed a service work: they
//   send stop_requested then start_requested, and the service starts again as
//   soon as the old run is gone.
//
// - exec_failed does not make the service fatal at once: the child that
//   failed to exec is still alive (it is about to _exit). The supervisor must
//   report the exec outcome (exec_failed or exec_succeeded, read from the
//   report pipe) before it reports process_exited for the same run; the pipe
//   is complete by the time the child can be reaped, so draining it first
//   is always possible.
//
// - The start limit is checked when a restart is decided, against the time the
//   restart would happen (now + backoff), so a service that crash-loops goes
//   fatal at once instead of waiting out one more backoff first. Starts are
//   counted when spawned() reports them; a fork that failed is no start.
//
// - A stop that was asked for is never a failure: whatever the exit status,
//   the service ends `stopped` (or starts again, if that was asked too).
//   A main service that is stopped by request does not report `finished`:
//   a reload that restarts it must not end foster.
//
// - Durations are Millis, like the config; time points are steady_clock's,
//   which on Linux is CLOCK_MONOTONIC, the clock timerfds use.
#pragma once

#include <chrono>
#include <csignal>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "duration.hpp"
#include "exit_status.hpp"

// Names of their own, because foster:: already has ServiceType, RestartPolicy
// (config.hpp) and ExitStatus (reaper.hpp): the supervisor maps those onto
// these when it builds a machine from a service's config.
namespace foster::service {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

// The states of foster.toml(5) (SERVICE STATES), spelled as users see them.
enum class State { stopped, starting, running, backoff, stopping, exited, fatal };
inline constexpr std::size_t state_count = 7;

// "running", "backoff", ...: the names fosterctl status and the logs show.
const char* state_name(State state) noexcept;

// `type` of the config.
enum class Type { simple, oneshot, notify };

// `restart` of the config.
enum class Restart { no, on_failure, always };

// What the machine needs of a service's config, filled in by the supervisor.
// Defaults are foster.toml(5)'s.
struct Policy {
    Type type = Type::simple;
    Restart restart = Restart::on_failure;
    Millis restart_delay{100};
    Millis restart_delay_max{30'000};
    Millis min_uptime{1'000};
    // At most start_limit_burst starts within start_limit_interval; 0 for
    // either turns the limit off.
    Millis start_limit_interval{10'000};
    unsigned start_limit_burst = 5;
    int stop_signal = SIGTERM;
    Millis stop_timeout{10'000};
    std::vector<int> success_exit_codes{0};
    bool is_main = false;
    bool operator==(const Policy&) const = default;
};

// How a main process ended: the reaper's type (exit_status.hpp).
using foster::ExitStatus;

// One run of a service: its main process (also its process group) and what
// is known to be alive of it. What hand_over and take_back move.
struct Run {
    int pid = 0;
    TimePoint started_at{};
    bool main_alive = false;
    bool group_alive = false;
};

enum class EventKind {
    start_requested,  // autostart, `fosterctl start`, or a reload added / changed it
    stop_requested,   // `fosterctl stop`, shutdown, or a reload removed / changed it
    kill_requested,   // shutdown skips the waiting (second SIGTERM, shutdown_timeout)
    spawned,          // fork succeeded; number = pid (also the process group)
    spawn_failed,     // fork (or the parent's set-up) failed; number = errno
    exec_failed,      // the child reported a failed exec (or set-up step); number = errno
    exec_succeeded,   // the exec report pipe hit EOF
    ready_notified,   // READY=1 on the notify socket
    process_exited,   // the main process was reaped; status, group_empty
    group_empty,      // kill(-pgid, 0) found no process left in the group
    timer_fired,      // the deadline armed by the last Actions has passed
    unhealthy,        // the healthcheck failed `retries` times in a row
    healthy,          // a healthcheck probe succeeded again
};
inline constexpr std::size_t event_count = 13;

const char* event_name(EventKind kind) noexcept;

struct Event {
    EventKind kind = EventKind::start_requested;
    TimePoint now{};
    int number = 0;            // spawned: pid; spawn_failed, exec_failed: errno
    ExitStatus status{};       // process_exited
    bool group_empty = false;  // process_exited: no other process left in its group
};

// What the supervisor must do after an event, in this order: timer, signal,
// spawn, then the announcements. An event that changes nothing returns
// Actions whose none() is true.
struct Actions {
    enum class Timer { keep, arm, cancel };

    State from = State::stopped;  // the state before the event
    State to = State::stopped;    // the state after it
    // Fork and exec the service (a new session, so pgid = pid), then report
    // spawned or spawn_failed, and later the exec outcome.
    bool spawn = false;
    // A signal for the service's process group (and for its main process,
    // should that have left the group); 0 for none.
    int send_signal = 0;
    // The service's single timer: arm replaces any earlier deadline. A timer
    // that has fired is spent; the supervisor need not cancel it.
    Timer timer = Timer::keep;
    TimePoint deadline{};
    bool became_ready = false;     // dependents may start now
    bool went_fatal = false;       // apply on_fatal
    std::optional<int> finished;   // a main service exited: foster exits with this status
    // One line for the log, "web: running → backoff (exit 1), restart in 400ms",
    // empty when there is nothing worth saying.
    std::string message;

    [[nodiscard]] bool none() const noexcept;
};

class StateMachine {
public:
    StateMachine(std::string name, Policy policy);
    // The same, sharing `policy` with other machines: services configured
    // alike hold one Policy between them, not one each.
    StateMachine(std::string name, std::shared_ptr<const Policy> policy);

    // For a reload: the new policy applies from the next decision on.
    void set_policy(Policy policy);

    // The whole machine: looks the handler up in the table and runs it.
    Actions handle(const Event& event);

    // One call per event, for readable call sites.
    Actions start_requested(TimePoint now);
    Actions stop_requested(TimePoint now);
    Actions kill_requested(TimePoint now);
    Actions spawned(TimePoint now, int pid);
    Actions spawn_failed(TimePoint now, int error);
    Actions exec_failed(TimePoint now, int error);
    Actions exec_succeeded(TimePoint now);
    Actions ready_notified(TimePoint now);
    Actions process_exited(TimePoint now, ExitStatus status, bool group_empty);
    Actions group_empty(TimePoint now);
    Actions timer_fired(TimePoint now);
    Actions unhealthy(TimePoint now);
    Actions healthy(TimePoint now);

    // Overlapping restart, first step: a running service gives its run to
    // `previous` (which keeps serving, outside the machine) and starts a
    // new one as start_requested would. Anything but `running` with a live
    // main process: none(), `previous` untouched.
    Actions hand_over(TimePoint now, Run& previous);
    // The new run did not become ready: the machine takes `previous` back
    // and is `running` (and ready) again; the new run, if any of it lives,
    // goes to `abandoned` for the supervisor to stop. Only from starting,
    // backoff or running; otherwise none().
    Actions take_back(TimePoint now, const Run& previous, Run& abandoned);

    [[nodiscard]] State state() const noexcept { return state_; }
    [[nodiscard]] const std::string& name() const noexcept { return name_; }
    [[nodiscard]] const Policy& policy() const noexcept { return *policy_; }
    // The main process, while it lives.
    [[nodiscard]] std::optional<int> pid() const noexcept;
    // The process group of the current run, while any process of it may live.
    [[nodiscard]] std::optional<int> process_group() const noexcept;
    // The main process is gone but the group was not yet reported empty: the
    // supervisor should check kill(-pgid, 0) after each round of reaping.
    [[nodiscard]] bool waiting_for_group() const noexcept;
    // When the current run was spawned (for uptime), while it lives.
    [[nodiscard]] std::optional<TimePoint> started_at() const noexcept;
    // The armed deadline, if any: the supervisor may use it instead of
    // following Actions::timer.
    [[nodiscard]] std::optional<TimePoint> deadline() const noexcept { return deadline_; }
    // Automatic restarts since the last start_requested.
    [[nodiscard]] unsigned restarts() const noexcept { return restarts_; }
    // Start times kept for the start limit: those within its interval (at
    // most `burst` and the newest), none without a limit.
    [[nodiscard]] std::size_t remembered_starts() const noexcept { return starts_.size(); }
    // The last run's exit code, or 128 + N when signal N killed it.
    [[nodiscard]] std::optional<int> exit_status() const noexcept { return exit_status_; }
    // The errno of the last failed exec, while the service is fatal from it.
    [[nodiscard]] std::optional<int> exec_error() const noexcept;
    // The current stop (or the last one) had to use SIGKILL. Cleared by
    // stop_requested, so at the end of a shutdown it says whether that
    // shutdown needed SIGKILL for this service.
    [[nodiscard]] bool needed_kill() const noexcept { return needed_kill_; }
    // Healthcheck failed and the service was left running (restart = no, or main).
    [[nodiscard]] bool is_unhealthy() const noexcept { return unhealthy_; }
    // stopped, exited or fatal: no process, no timer, nothing will happen
    // until start_requested.
    [[nodiscard]] bool is_down() const noexcept;
    // The backoff the next failed run would wait (before doubling).
    [[nodiscard]] Millis next_delay() const noexcept;

private:
    // What becomes of the service once a run is over.
    struct Outcome {
        State next = State::stopped;
        bool ready = false;             // became_ready
        std::optional<int> finished{};  // a main service's exit status
        Millis delay{0};                // backoff
        std::string detail{};           // ", restart in 400ms"
    };

    using Handler = void (StateMachine::*)(const Event&, Actions&);
    // The machine, s6-style: one handler per event (rows) and state (columns).
    static const Handler transitions[event_count][state_count];

    // Handlers, named after what they do; each checks its own condition.
    void ignore(const Event&, Actions&) {}
    void start(const Event& e, Actions& a);
    void start_after_stop(const Event& e, Actions& a);
    void stop(const Event& e, Actions& a);
    void stop_at_once(const Event& e, Actions& a);
    void cancel_restart(const Event& e, Actions& a);
    void kill_now(const Event& e, Actions& a);
    void kill_while_stopping(const Event& e, Actions& a);
    void begin_run(const Event& e, Actions& a);
    void retry_spawn(const Event& e, Actions& a);
    void note_exec_failed(const Event& e, Actions& a);
    void exec_done(const Event& e, Actions& a);
    void ready(const Event& e, Actions& a);
    void run_ended(const Event& e, Actions& a);
    void note_group_empty(const Event& e, Actions& a);
    void main_gone_while_stopping(const Event& e, Actions& a);
    void group_gone_while_stopping(const Event& e, Actions& a);
    void restart_now(const Event& e, Actions& a);
    void stop_timeout_elapsed(const Event& e, Actions& a);
    void became_unhealthy(const Event& e, Actions& a);
    void became_healthy(const Event& e, Actions& a);

    // Helpers.
    Outcome decide(TimePoint now, bool success);
    bool start_limit_reached(TimePoint at);
    [[nodiscard]] bool start_limit_on() const noexcept;
    Millis take_delay();
    void reset_for_start();
    void begin_stop(TimePoint now, Actions& a, Outcome after, int sig, const std::string& detail);
    void finish_stop(TimePoint now, Actions& a, const std::string& detail);
    void enter(const Outcome& o, TimePoint now, Actions& a, const std::string& detail);
    void note_main_exit(const Event& e);
    void arm(Actions& a, TimePoint at);
    void cancel_timer(Actions& a);
    bool deadline_reached(TimePoint now) const noexcept;
    void transition(Actions& a, State to, const std::string& detail);
    void note(Actions& a, const std::string& text) const;
    [[nodiscard]] bool succeeded(ExitStatus status) const noexcept;

    std::string name_;
    std::shared_ptr<const Policy> policy_;  // never null; shared, never changed in place
    State state_ = State::stopped;
    // (Members ordered so that no padding is left between them: there is a
    // machine per service, ten thousand of them at times.)

    // The current run.
    int pid_ = 0;                 // also its process group
    int exec_errno_ = 0;
    bool main_alive_ = false;     // spawned and not yet reaped
    bool group_alive_ = false;    // not yet reported empty
    bool exec_failed_ = false;
    bool unhealthy_ = false;
    bool kill_sent_ = false;      // this stop already used SIGKILL
    bool needed_kill_ = false;
    TimePoint started_at_{};
    Outcome after_stop_;          // where `stopping` leads

    std::optional<TimePoint> deadline_;
    std::optional<int> exit_status_;

    // Restart accounting since the last start_requested.
    unsigned restarts_ = 0;
    Millis next_delay_;
    std::vector<TimePoint> starts_;  // spawn times inside the start-limit window, if there is a limit
};

}  // namespace foster::service
