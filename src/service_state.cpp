#include "service_state.hpp"

#include <algorithm>
#include <utility>

#include "log.hpp"
#include "signal_names.hpp"

namespace foster::service {

namespace {

constexpr std::size_t index(State s) noexcept { return static_cast<std::size_t>(s); }
constexpr std::size_t index(EventKind k) noexcept { return static_cast<std::size_t>(k); }

constexpr const char* state_names[state_count] = {
    "stopped", "starting", "running", "backoff", "stopping", "exited", "fatal",
};

constexpr const char* event_names[event_count] = {
    "start_requested", "stop_requested", "kill_requested", "spawned",      "spawn_failed",
    "exec_failed",     "exec_succeeded", "ready_notified", "process_exited", "group_empty",
    "timer_fired",     "unhealthy",      "healthy",
};

// "exit 1", "killed by SIGSEGV".
std::string describe(ExitStatus status) {
    if (status.signaled) return "killed by " + signal_name(status.status);
    return "exit " + std::to_string(status.status);
}

// The delay never starts above the cap, so doubling it cannot overflow
// (durations are bounded far below the range of Millis).
Millis capped(Millis delay, Millis cap) { return std::min(delay, cap); }

}  // namespace

const char* state_name(State state) noexcept {
    const auto i = index(state);
    return i < state_count ? state_names[i] : "unknown";
}

const char* event_name(EventKind kind) noexcept {
    const auto i = index(kind);
    return i < event_count ? event_names[i] : "unknown";
}

bool Actions::none() const noexcept {
    return from == to && !spawn && send_signal == 0 && timer == Timer::keep && !became_ready &&
           !went_fatal && !finished && message.empty();
}

// ---------------------------------------------------------------------------
// The table. Rows are events, columns states; every cell names the handler.

using M = StateMachine;

// clang-format off
const M::Handler M::transitions[event_count][state_count] = {
//                      stopped     starting               running                backoff            stopping                        exited      fatal
/* start_requested */ {&M::start,  &M::ignore,            &M::ignore,            &M::start,         &M::start_after_stop,           &M::start,  &M::start},
/* stop_requested  */ {&M::ignore, &M::stop,              &M::stop,              &M::stop_at_once,  &M::cancel_restart,             &M::ignore, &M::ignore},
/* kill_requested  */ {&M::ignore, &M::kill_now,          &M::kill_now,          &M::stop_at_once,  &M::kill_while_stopping,        &M::ignore, &M::ignore},
/* spawned         */ {&M::ignore, &M::begin_run,         &M::ignore,            &M::ignore,        &M::ignore,                     &M::ignore, &M::ignore},
/* spawn_failed    */ {&M::ignore, &M::retry_spawn,       &M::ignore,            &M::ignore,        &M::ignore,                     &M::ignore, &M::ignore},
/* exec_failed     */ {&M::ignore, &M::note_exec_failed,  &M::ignore,            &M::ignore,        &M::ignore,                     &M::ignore, &M::ignore},
/* exec_succeeded  */ {&M::ignore, &M::exec_done,         &M::ignore,            &M::ignore,        &M::ignore,                     &M::ignore, &M::ignore},
/* ready_notified  */ {&M::ignore, &M::ready,             &M::ignore,            &M::ignore,        &M::ignore,                     &M::ignore, &M::ignore},
/* process_exited  */ {&M::ignore, &M::run_ended,         &M::run_ended,         &M::ignore,        &M::main_gone_while_stopping,   &M::ignore, &M::ignore},
/* group_empty     */ {&M::ignore, &M::note_group_empty,  &M::note_group_empty,  &M::ignore,        &M::group_gone_while_stopping,  &M::ignore, &M::ignore},
/* timer_fired     */ {&M::ignore, &M::ignore,            &M::ignore,            &M::restart_now,   &M::stop_timeout_elapsed,       &M::ignore, &M::ignore},
/* unhealthy       */ {&M::ignore, &M::ignore,            &M::became_unhealthy,  &M::ignore,        &M::ignore,                     &M::ignore, &M::ignore},
/* healthy         */ {&M::ignore, &M::ignore,            &M::became_healthy,    &M::ignore,        &M::ignore,                     &M::ignore, &M::ignore},
};
// clang-format on

StateMachine::StateMachine(std::string name, Policy policy)
    : StateMachine(std::move(name), std::make_shared<const Policy>(std::move(policy))) {}

StateMachine::StateMachine(std::string name, std::shared_ptr<const Policy> policy)
    : name_(std::move(name)), policy_(std::move(policy)) {
    next_delay_ = capped(policy_->restart_delay, policy_->restart_delay_max);
    // The history holds the starts within the limit's window (at most
    // `burst`), none without a limit; keep small ones allocated up front so
    // the loop does not allocate for them.
    if (start_limit_on()) starts_.reserve(std::min(policy_->start_limit_burst, 16U));
}

void StateMachine::set_policy(Policy policy) {
    policy_ = std::make_shared<const Policy>(std::move(policy));
    if (!start_limit_on()) starts_.clear();
    next_delay_ = capped(next_delay_, policy_->restart_delay_max);
}

Actions StateMachine::handle(const Event& event) {
    Actions a;
    a.from = a.to = state_;
    const auto e = index(event.kind);
    const auto s = index(state_);
    if (e < event_count && s < state_count) (this->*transitions[e][s])(event, a);
    return a;
}

Actions StateMachine::start_requested(TimePoint now) {
    return handle({.kind = EventKind::start_requested, .now = now});
}
Actions StateMachine::stop_requested(TimePoint now) {
    return handle({.kind = EventKind::stop_requested, .now = now});
}
Actions StateMachine::kill_requested(TimePoint now) {
    return handle({.kind = EventKind::kill_requested, .now = now});
}
Actions StateMachine::spawned(TimePoint now, int pid) {
    return handle({.kind = EventKind::spawned, .now = now, .number = pid});
}
Actions StateMachine::spawn_failed(TimePoint now, int error) {
    return handle({.kind = EventKind::spawn_failed, .now = now, .number = error});
}
Actions StateMachine::exec_failed(TimePoint now, int error) {
    return handle({.kind = EventKind::exec_failed, .now = now, .number = error});
}
Actions StateMachine::exec_succeeded(TimePoint now) {
    return handle({.kind = EventKind::exec_succeeded, .now = now});
}
Actions StateMachine::ready_notified(TimePoint now) {
    return handle({.kind = EventKind::ready_notified, .now = now});
}
Actions StateMachine::process_exited(TimePoint now, ExitStatus status, bool group_empty) {
    return handle({.kind = EventKind::process_exited, .now = now, .status = status,
                   .group_empty = group_empty});
}
Actions StateMachine::group_empty(TimePoint now) {
    return handle({.kind = EventKind::group_empty, .now = now});
}
Actions StateMachine::timer_fired(TimePoint now) {
    return handle({.kind = EventKind::timer_fired, .now = now});
}
Actions StateMachine::unhealthy(TimePoint now) {
    return handle({.kind = EventKind::unhealthy, .now = now});
}
Actions StateMachine::healthy(TimePoint now) {
    return handle({.kind = EventKind::healthy, .now = now});
}

// ---------------------------------------------------------------------------
// Overlapping restarts (outside the table: each moves a run; see the header).

Actions StateMachine::hand_over(TimePoint now, Run& previous) {
    Actions a;
    a.from = a.to = state_;
    if (state_ != State::running || !main_alive_) return a;
    previous = Run{pid_, started_at_, main_alive_, group_alive_};
    pid_ = 0;
    main_alive_ = group_alive_ = false;
    needed_kill_ = false;
    start(Event{.kind = EventKind::start_requested, .now = now}, a);
    a.message += " (overlapping restart: pid " + std::to_string(previous.pid) + " keeps serving)";
    return a;
}

Actions StateMachine::take_back(TimePoint, const Run& previous, Run& abandoned) {
    Actions a;
    a.from = a.to = state_;
    if (state_ != State::starting && state_ != State::backoff && state_ != State::running) return a;
    // pid 0: nothing was spawned (or what was is accounted for already).
    abandoned = main_alive_ || group_alive_ ? Run{pid_, started_at_, main_alive_, group_alive_} : Run{};
    pid_ = previous.pid;
    started_at_ = previous.started_at;
    main_alive_ = previous.main_alive;
    group_alive_ = previous.group_alive;
    exec_failed_ = false;
    exec_errno_ = 0;
    unhealthy_ = false;
    kill_sent_ = false;
    cancel_timer(a);
    a.became_ready = true;
    transition(a, State::running, " (the new process did not become ready; pid " + std::to_string(pid_) +
                                      " keeps running)");
    return a;
}

// ---------------------------------------------------------------------------
// Observers.

std::optional<int> StateMachine::pid() const noexcept {
    return main_alive_ ? std::optional<int>{pid_} : std::nullopt;
}

std::optional<int> StateMachine::process_group() const noexcept {
    return main_alive_ || group_alive_ ? std::optional<int>{pid_} : std::nullopt;
}

bool StateMachine::waiting_for_group() const noexcept { return !main_alive_ && group_alive_; }

std::optional<TimePoint> StateMachine::started_at() const noexcept {
    return main_alive_ ? std::optional<TimePoint>{started_at_} : std::nullopt;
}

std::optional<int> StateMachine::exec_error() const noexcept {
    return exec_failed_ ? std::optional<int>{exec_errno_} : std::nullopt;
}

bool StateMachine::is_down() const noexcept {
    return state_ == State::stopped || state_ == State::exited || state_ == State::fatal;
}

Millis StateMachine::next_delay() const noexcept { return next_delay_; }

// ---------------------------------------------------------------------------
// Handlers.

void StateMachine::start(const Event&, Actions& a) {
    reset_for_start();
    cancel_timer(a);
    a.spawn = true;
    transition(a, State::starting, "");
}

void StateMachine::start_after_stop(const Event&, Actions& a) {
    reset_for_start();
    if (after_stop_.next == State::starting) return;
    after_stop_ = Outcome{.next = State::starting};
    note(a, "stopping, will start again once stopped");
}

void StateMachine::stop(const Event& e, Actions& a) {
    needed_kill_ = false;
    if (!main_alive_) return stop_at_once(e, a);  // the spawn was not reported yet
    begin_stop(e.now, a, Outcome{.next = State::stopped}, policy_->stop_signal,
               " (" + signal_name(policy_->stop_signal) + ")");
}

void StateMachine::stop_at_once(const Event&, Actions& a) {
    needed_kill_ = false;
    cancel_timer(a);
    transition(a, State::stopped, "");
}

void StateMachine::cancel_restart(const Event&, Actions& a) {
    if (after_stop_.next != State::starting && after_stop_.next != State::backoff) return;
    after_stop_ = Outcome{.next = State::stopped};
    note(a, "stopping, will not start again");
}

void StateMachine::kill_now(const Event& e, Actions& a) {
    if (!main_alive_) return stop_at_once(e, a);
    begin_stop(e.now, a, Outcome{.next = State::stopped}, SIGKILL, " (SIGKILL)");
}

void StateMachine::kill_while_stopping(const Event&, Actions& a) {
    if (after_stop_.next == State::starting || after_stop_.next == State::backoff)
        after_stop_ = Outcome{.next = State::stopped};
    if (kill_sent_) return;
    kill_sent_ = needed_kill_ = true;
    a.send_signal = SIGKILL;
    cancel_timer(a);
    note(a, "stopping, sending SIGKILL");
}

void StateMachine::begin_run(const Event& e, Actions&) {
    if (main_alive_) return;
    pid_ = e.number;
    main_alive_ = group_alive_ = true;
    started_at_ = e.now;
    exec_failed_ = false;
    exec_errno_ = 0;
    unhealthy_ = false;
    kill_sent_ = false;
    // Only a limit needs the times, and only it forgets them again: without
    // one, a service crash-looping for weeks would add 8 bytes a start.
    if (start_limit_on()) starts_.push_back(e.now);
}

void StateMachine::retry_spawn(const Event& e, Actions& a) {
    if (main_alive_) return;
    const Millis delay = take_delay();
    arm(a, e.now + delay);
    transition(a, State::backoff,
               " (cannot start: " + log::errno_text(e.number) + "), retry in " +
                   format_duration(delay));
}

void StateMachine::note_exec_failed(const Event& e, Actions&) {
    if (!main_alive_) return;
    exec_failed_ = true;
    exec_errno_ = e.number;
}

void StateMachine::exec_done(const Event&, Actions& a) {
    if (!main_alive_ || exec_failed_ || policy_->type != Type::simple) return;
    a.became_ready = true;
    transition(a, State::running, "");
}

void StateMachine::ready(const Event&, Actions& a) {
    if (!main_alive_ || exec_failed_ || policy_->type != Type::notify) return;
    a.became_ready = true;
    transition(a, State::running, " (ready)");
}

void StateMachine::run_ended(const Event& e, Actions& a) {
    if (!main_alive_) return;
    note_main_exit(e);
    unhealthy_ = false;
    Outcome outcome;
    if (exec_failed_) {
        outcome = Outcome{.next = State::fatal,
                          .detail = ", could not be executed: " + log::errno_text(exec_errno_)};
    } else {
        outcome = decide(e.now, succeeded(e.status));
    }
    const std::string what = " (" + describe(e.status) + ")";
    if (group_alive_) {
        begin_stop(e.now, a, std::move(outcome), policy_->stop_signal,
                   what + ", stopping the processes it left behind");
        return;
    }
    enter(outcome, e.now, a, what);
}

void StateMachine::note_group_empty(const Event&, Actions&) { group_alive_ = false; }

void StateMachine::main_gone_while_stopping(const Event& e, Actions& a) {
    if (!main_alive_) return;
    note_main_exit(e);
    if (!group_alive_) finish_stop(e.now, a, " (" + describe(e.status) + ")");
}

void StateMachine::group_gone_while_stopping(const Event& e, Actions& a) {
    if (!group_alive_) return;
    group_alive_ = false;
    if (!main_alive_) finish_stop(e.now, a, "");
}

void StateMachine::restart_now(const Event& e, Actions& a) {
    if (!deadline_reached(e.now)) return;
    deadline_.reset();  // spent
    ++restarts_;
    a.spawn = true;
    transition(a, State::starting, " (restart " + std::to_string(restarts_) + ")");
}

void StateMachine::stop_timeout_elapsed(const Event& e, Actions& a) {
    if (!deadline_reached(e.now) || kill_sent_) return;
    deadline_.reset();  // spent
    kill_sent_ = needed_kill_ = true;
    a.send_signal = SIGKILL;
    note(a, "still running " + format_duration(policy_->stop_timeout) + " after " +
                signal_name(policy_->stop_signal) + ", sending SIGKILL");
}

void StateMachine::became_unhealthy(const Event& e, Actions& a) {
    if (unhealthy_) return;
    unhealthy_ = true;
    if (policy_->is_main || policy_->restart == Restart::no) {
        note(a, policy_->is_main ? "unhealthy, left running (main service)"
                                : "unhealthy, left running (restart = no)");
        return;
    }
    begin_stop(e.now, a, decide(e.now, false), policy_->stop_signal,
               " (unhealthy, " + signal_name(policy_->stop_signal) + ")");
}

void StateMachine::became_healthy(const Event&, Actions& a) {
    if (!unhealthy_) return;
    unhealthy_ = false;
    note(a, "healthy again");
}

// ---------------------------------------------------------------------------
// Helpers.

// The outcome of a run that ended without being asked to; see the header.
StateMachine::Outcome StateMachine::decide(TimePoint now, bool success) {
    if (now - started_at_ >= policy_->min_uptime) {
        // A run long enough to count as healthy forgives what came before.
        next_delay_ = capped(policy_->restart_delay, policy_->restart_delay_max);
        starts_.clear();
    }
    if (policy_->is_main) return Outcome{.next = State::exited, .finished = exit_status_};
    if (policy_->type == Type::oneshot && success)
        return Outcome{.next = State::exited, .ready = true};
    const bool restart = policy_->restart == Restart::always ||
                         (policy_->restart == Restart::on_failure && !success);
    if (!restart) return Outcome{.next = State::exited};
    const Millis delay = next_delay_;
    if (start_limit_reached(now + delay)) {
        return Outcome{.next = State::fatal,
                       .detail = ", start limit reached (" +
                                 std::to_string(policy_->start_limit_burst) + " starts within " +
                                 format_duration(policy_->start_limit_interval) + ")"};
    }
    take_delay();
    return Outcome{.next = State::backoff,
                   .delay = delay,
                   .detail = ", restart in " + format_duration(delay)};
}

// Whether one more start at `at` would make more than `burst` starts within
// any `interval`. Forgets starts that have left the window for good.
bool StateMachine::start_limit_on() const noexcept {
    return policy_->start_limit_burst > 0 && policy_->start_limit_interval > Millis{0};
}

bool StateMachine::start_limit_reached(TimePoint at) {
    if (!start_limit_on()) return false;
    const TimePoint window_start = at - policy_->start_limit_interval;
    std::erase_if(starts_, [&](TimePoint t) { return t <= window_start; });
    return starts_.size() >= policy_->start_limit_burst;
}

// The backoff to wait now; the next one is twice as long, up to the cap.
Millis StateMachine::take_delay() {
    const Millis delay = next_delay_;
    next_delay_ = capped(delay * 2, policy_->restart_delay_max);
    return delay;
}

void StateMachine::reset_for_start() {
    restarts_ = 0;
    next_delay_ = capped(policy_->restart_delay, policy_->restart_delay_max);
    starts_.clear();
    unhealthy_ = false;
}

void StateMachine::begin_stop(TimePoint now, Actions& a, Outcome after, int sig,
                              const std::string& detail) {
    after_stop_ = std::move(after);
    a.send_signal = sig;
    kill_sent_ = sig == SIGKILL;
    if (kill_sent_) {
        needed_kill_ = true;
        cancel_timer(a);
    } else {
        arm(a, now + policy_->stop_timeout);
    }
    transition(a, State::stopping, detail);
}

void StateMachine::finish_stop(TimePoint now, Actions& a, const std::string& detail) {
    const Outcome after = std::exchange(after_stop_, Outcome{});
    kill_sent_ = false;
    unhealthy_ = false;
    enter(after, now, a, detail);
}

void StateMachine::enter(const Outcome& o, TimePoint now, Actions& a, const std::string& detail) {
    switch (o.next) {
    case State::backoff:
        arm(a, now + o.delay);
        break;
    case State::starting:  // started by hand while it was stopping
        cancel_timer(a);
        a.spawn = true;
        break;
    case State::fatal:
        cancel_timer(a);
        a.went_fatal = true;
        break;
    case State::exited:
        cancel_timer(a);
        a.became_ready = o.ready;
        a.finished = o.finished;
        break;
    case State::stopped:
    case State::running:
    case State::stopping:
        cancel_timer(a);
        break;
    }
    transition(a, o.next, detail + o.detail);
}

void StateMachine::note_main_exit(const Event& e) {
    main_alive_ = false;
    // A group once reported empty stays empty (its id is the main pid, which
    // no other process can have while the run is accounted for).
    group_alive_ = group_alive_ && !e.group_empty;
    exit_status_ = e.status.code();
}

void StateMachine::arm(Actions& a, TimePoint at) {
    deadline_ = at;
    a.timer = Actions::Timer::arm;
    a.deadline = at;
}

void StateMachine::cancel_timer(Actions& a) {
    if (!deadline_) return;
    deadline_.reset();
    a.timer = Actions::Timer::cancel;
}

bool StateMachine::deadline_reached(TimePoint now) const noexcept {
    return deadline_ && now >= *deadline_;
}

void StateMachine::transition(Actions& a, State to, const std::string& detail) {
    a.to = to;
    a.message = name_ + ": " + state_name(state_) + " → " + state_name(to) + detail;
    state_ = to;
}

void StateMachine::note(Actions& a, const std::string& text) const {
    a.message = name_ + ": " + text;
}

bool StateMachine::succeeded(ExitStatus status) const noexcept {
    if (status.signaled) return false;
    const auto& codes = policy_->success_exit_codes;
    return std::find(codes.begin(), codes.end(), status.status) != codes.end();
}

}  // namespace foster::service
