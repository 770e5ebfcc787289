// contained.hpp — "never die after start-up", at the one place it can be
// enforced: where the event loop calls a handler.
//
// Handlers are written not to throw (errors are reported and the loop goes
// on), but C++ can still throw where nobody looked: std::bad_alloc from any
// string or container, std::out_of_range from an .at() that a later change
// makes reachable. Unwinding out of the loop would end foster — PID 1, with
// its services still running. So each handler, timer callback and the
// supervisor's settle step runs contained: an exception that escapes it is
// logged, counted, and the loop carries on with the next event.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>

namespace foster {

// Called from inside a catch block: logs the exception being handled
// ("internal error in WHERE: WHAT; carrying on") and counts it. Never throws,
// even when logging itself runs out of memory.
void report_escaped_exception(std::string_view where) noexcept;

// How many exceptions were contained since foster started.
std::uint64_t escaped_exception_count() noexcept;

// Runs f(); an exception escaping it is reported, not propagated.
template <typename F>
void run_contained(std::string_view where, F&& f) noexcept {
    try {
        std::forward<F>(f)();
    } catch (...) {
        report_escaped_exception(where);
    }
}

}  // namespace foster
