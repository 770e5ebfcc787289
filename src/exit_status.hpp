// exit_status.hpp — how a process ended, as the reaper reads it from waitid
// and as a service's state machine decides on it: one type for both.
#pragma once

namespace foster {

struct ExitStatus {
    bool signaled = false;  // killed by a signal (status = the signal)
    int status = 0;         // exit code, or signal number when signaled

    static constexpr ExitStatus exited(int code) noexcept { return {false, code}; }
    static constexpr ExitStatus killed(int sig) noexcept { return {true, sig}; }
    // The shell's convention: the code, or 128 + the signal.
    [[nodiscard]] constexpr int code() const noexcept { return signaled ? 128 + status : status; }
    bool operator==(const ExitStatus&) const = default;
};

}  // namespace foster
