// The event loop's dispatch contains exceptions: a handler or timer callback
// that throws is logged and counted, and the loop goes on (contained.hpp).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <poll.h>
#include <unistd.h>

#include <stdexcept>

#include "contained.hpp"
#include "event_loop.hpp"
#include "log.hpp"

using namespace foster;
using namespace std::chrono_literals;

namespace {

struct TestPipe {
    Fd read_end, write_end;
    TestPipe() {
        int ends[2];
        REQUIRE(pipe2(ends, O_CLOEXEC | O_NONBLOCK) == 0);
        read_end.reset(ends[0]);
        write_end.reset(ends[1]);
    }
    void poke() { REQUIRE(::write(write_end.get(), "x", 1) == 1); }
    void drain() {
        char buf[64];
        while (::read(read_end.get(), buf, sizeof buf) > 0) {
        }
    }
};

// The contained exceptions are logged as errors: keep the test output clean.
struct QuietLog {
    QuietLog() { log::init(log::Level::quiet); }
    ~QuietLog() { log::init(log::Level::normal); }
};

}  // namespace

TEST_CASE("a handler that throws does not end the loop or the batch") {
    QuietLog quiet;
    EventLoop loop;
    TestPipe a, b;
    int a_calls = 0, b_calls = 0;
    loop.watch(a.read_end.get(), EPOLLIN, [&](std::uint32_t) {
        ++a_calls;
        a.drain();
        throw std::runtime_error("handler a failed");
    });
    loop.watch(b.read_end.get(), EPOLLIN, [&](std::uint32_t) {
        ++b_calls;
        b.drain();
    });
    const auto before = escaped_exception_count();
    a.poke();
    b.poke();
    CHECK_NOTHROW(loop.run_once());
    CHECK(a_calls == 1);
    CHECK(b_calls == 1);  // same batch: dispatched although a threw
    CHECK(escaped_exception_count() == before + 1);

    // And the loop goes on: both are dispatched again next time.
    a.poke();
    b.poke();
    CHECK_NOTHROW(loop.run_once());
    CHECK(a_calls == 2);
    CHECK(b_calls == 2);
    CHECK(escaped_exception_count() == before + 2);
}

TEST_CASE("a timer callback that throws does not stop the other timers") {
    QuietLog quiet;
    EventLoop loop;
    const auto before = escaped_exception_count();
    bool second_ran = false, later_ran = false;
    const TimePoint now = Clock::now();
    loop.timers().schedule(now, [] { throw std::bad_alloc(); });
    loop.timers().schedule(now, [&] { second_ran = true; });
    CHECK_NOTHROW(loop.run_once());
    CHECK(second_ran);
    CHECK(escaped_exception_count() == before + 1);

    // The timerfd was re-armed after the throw: a later deadline still wakes us.
    loop.timers().schedule(Clock::now() + 5ms, [&] { later_ran = true; });
    for (int turns = 0; !later_ran && turns < 100; ++turns) loop.run_once();
    CHECK(later_ran);
}

TEST_CASE("run_contained reports exceptions of any type") {
    QuietLog quiet;
    const auto before = escaped_exception_count();
    CHECK_NOTHROW(run_contained("a test", [] { throw 42; }));
    CHECK_NOTHROW(run_contained("a test", [] {}));
    CHECK(escaped_exception_count() == before + 1);
}

TEST_CASE("a deadline before the clock's epoch still arms the timer") {
    // The kernel refuses a negative absolute time (EINVAL): unarmed, the
    // loop would never wake for this deadline or any after it.
    EventLoop loop;
    bool ran = false;
    loop.timers().schedule(TimePoint(-2s), [&] { ran = true; });
    pollfd timer{loop.timers().fd(), POLLIN, 0};
    const bool fired = poll(&timer, 1, 2000) == 1;  // armed in the past: at once
    CHECK(fired);
    if (!fired) return;  // run_once would block for ever
    loop.run_once();
    CHECK(ran);
}
