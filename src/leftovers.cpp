#include "leftovers.hpp"

#include <signal.h>

#include "log.hpp"
#include "reaper.hpp"

namespace foster {

bool Leftovers::begin(Millis grace) {
    phase_ = Phase::terminating;
    if (!has_children()) return true;
    // SIGCONT too, so a stopped process can act on the SIGTERM.
    const int n = signal_leftovers({SIGTERM, SIGCONT}, is_pid1_);
    log::debug("sent SIGTERM to " + std::string(is_pid1_ ? "every process" : std::to_string(n) + " leftover process(es)") +
               "; SIGKILL in " + format_duration(grace));
    grace_timer_ = loop_.timers().schedule(Clock::now() + grace, [this] { kill_now(); });
    return false;
}

void Leftovers::kill_now() {
    if (phase_ == Phase::idle || phase_ == Phase::killing) return;
    loop_.timers().cancel(grace_timer_);
    phase_ = Phase::killing;
    log::info("processes left behind did not exit in time; sending SIGKILL");
    signal_leftovers({SIGKILL}, is_pid1_);
}

bool Leftovers::after_reaping() {
    if (!has_children()) {
        loop_.timers().cancel(grace_timer_);
        return true;
    }
    if (phase_ == Phase::killing) signal_leftovers({SIGKILL}, is_pid1_);
    return false;
}

}  // namespace foster
