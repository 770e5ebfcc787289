#include "event_loop.hpp"

#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "contained.hpp"
#include "log.hpp"

namespace foster {

namespace {

Fd must(int fd, const char* what) {
    if (fd < 0) throw std::system_error(errno, std::generic_category(), what);
    return Fd{fd};
}

timespec to_timespec(TimePoint t) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    return ts;
}

}  // namespace

TimerQueue::Id TimerQueue::schedule(TimePoint when, std::function<void()> callback) {
    const Id id = next_id_++;
    by_deadline_.emplace(std::make_pair(when, id), std::move(callback));
    deadline_of_.emplace(id, when);
    if (by_deadline_.begin()->first.second == id) rearm();
    return id;
}

void TimerQueue::cancel(Id id) {
    const auto it = deadline_of_.find(id);
    if (it == deadline_of_.end()) return;
    const bool was_first = by_deadline_.begin()->first.second == id;
    by_deadline_.erase({it->second, id});
    deadline_of_.erase(it);
    if (was_first) rearm();
}

void TimerQueue::run_due() {
    std::uint64_t expirations = 0;
    while (::read(timer_fd_.get(), &expirations, sizeof expirations) < 0 && errno == EINTR) {
    }
    const TimePoint now = Clock::now();
    // One at a time: a callback may schedule or cancel others.
    while (!by_deadline_.empty() && by_deadline_.begin()->first.first <= now) {
        auto node = by_deadline_.extract(by_deadline_.begin());
        deadline_of_.erase(node.key().second);
        run_contained("a timer", node.mapped());
    }
    rearm();
}

void TimerQueue::rearm() {
    itimerspec spec{};  // all zero disarms
    if (!by_deadline_.empty()) {
        spec.it_value = to_timespec(by_deadline_.begin()->first.first);
        // A deadline at or before the clock's epoch is "now": zero would
        // disarm, and the kernel refuses a negative time.
        if (spec.it_value.tv_sec < 0 || (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec <= 0))
            spec.it_value = timespec{0, 1};
    }
    if (timerfd_settime(timer_fd_.get(), TFD_TIMER_ABSTIME, &spec, nullptr) == 0) return;
    // A timer that is never armed would stall every deadline (restarts,
    // stop timeouts, probes) for good: say so, and try again in a second
    // with a relative timer; run_due() re-arms when it fires.
    log::error("cannot arm the timer: " + log::errno_text(errno) + "; trying again in 1s");
    itimerspec retry{};
    retry.it_value.tv_sec = 1;
    timerfd_settime(timer_fd_.get(), 0, &retry, nullptr);
}

EventLoop::EventLoop()
    : epoll_fd_(must(epoll_create1(EPOLL_CLOEXEC), "epoll_create1")),
      timers_(must(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), "timerfd_create")) {
    watch(timers_.fd(), EPOLLIN, [this](std::uint32_t) { timers_.run_due(); });
}

EventLoop::Token EventLoop::watch(int fd, std::uint32_t events, Handler handler) {
    const Token token = next_token_++;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = token;
    if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return 0;
    watches_.emplace(token, Watch{fd, std::move(handler)});
    return token;
}

void EventLoop::unwatch(Token token) {
    const auto it = watches_.find(token);
    if (it == watches_.end()) return;
    epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, it->second.fd, nullptr);
    watches_.erase(it);
}

void EventLoop::run_once() {
    epoll_event events[32];
    const int n = epoll_wait(epoll_fd_.get(), events, 32, -1);
    for (int i = 0; i < n; ++i) {
        // Looked up afresh: an earlier handler of this batch may have
        // unwatched this one.
        const auto it = watches_.find(events[i].data.u64);
        if (it == watches_.end()) continue;
        run_contained("an event handler", [&] {
            Handler handler = it->second.handler;  // survives an unwatch from inside
            handler(events[i].events);
        });
    }
}

}  // namespace foster
