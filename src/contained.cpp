#include "contained.hpp"

#include <exception>
#include <string>

#include "log.hpp"

namespace foster {

namespace {

std::uint64_t escaped = 0;

}  // namespace

void report_escaped_exception(std::string_view where) noexcept {
    ++escaped;
    try {
        std::string what = "an exception of unknown type";
        try {
            throw;  // the one being handled by our caller
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
        log::error("internal error in " + std::string(where) + ": " + what + "; carrying on");
    } catch (...) {
        // Out of memory for the message itself: the count still tells.
    }
}

std::uint64_t escaped_exception_count() noexcept { return escaped; }

}  // namespace foster
