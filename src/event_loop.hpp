// event_loop.hpp — the one loop foster runs in: epoll, plus a timer queue.
//
// Everything foster reacts to arrives as a readable descriptor: the signalfd,
// one timerfd for every deadline, sockets and pipes. The loop blocks in
// epoll_wait with no timeout, so an idle foster makes no system calls at all.
// Handlers run one at a time, to completion: there is no other thread. An
// exception escaping a handler or a timer callback is logged and counted
// (contained.hpp), never propagated: the loop goes on with the next event.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <unordered_map>

#include "fd.hpp"

namespace foster {

using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC, as the timerfd
using TimePoint = Clock::time_point;

// Any number of deadlines on one timerfd armed for the earliest.
class TimerQueue {
public:
    using Id = std::uint64_t;
    explicit TimerQueue(Fd timer_fd) : timer_fd_(std::move(timer_fd)) {}

    Id schedule(TimePoint when, std::function<void()> callback);
    void cancel(Id id);  // no-op for an unknown or already-run id
    [[nodiscard]] int fd() const { return timer_fd_.get(); }
    // Runs every callback that is due, then re-arms for the next one.
    void run_due();

private:
    void rearm();
    Fd timer_fd_;
    Id next_id_ = 1;
    std::map<std::pair<TimePoint, Id>, std::function<void()>> by_deadline_;
    std::unordered_map<Id, TimePoint> deadline_of_;
};

class EventLoop {
public:
    using Handler = std::function<void(std::uint32_t events)>;
    using Token = std::uint64_t;

    // Creates the epoll instance and the timerfd; throws std::system_error
    // (start-up only: foster may still refuse to start then).
    EventLoop();

    // Calls `handler` whenever `fd` reports one of `events`. The caller keeps
    // owning fd and must unwatch it before closing it. Returns 0 (and sets
    // errno) when epoll refuses the descriptor; never throws.
    Token watch(int fd, std::uint32_t events, Handler handler);
    void unwatch(Token token);

    TimerQueue& timers() { return timers_; }

    // Waits for events and dispatches them; returns after one batch.
    void run_once();

private:
    struct Watch {
        int fd;
        Handler handler;
    };
    Fd epoll_fd_;
    TimerQueue timers_;
    Token next_token_ = 1;
    std::unordered_map<Token, Watch> watches_;
};

}  // namespace foster
