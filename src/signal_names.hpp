// signal_names.hpp — one spelling of signals everywhere: "USR1", "SIGUSR1" or a number.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace foster {

// Parses a signal as foster(1) spells it (SIGNAL NAMES). `allow_zero` admits "0", which
// only -r TO uses ("drop the signal").
std::optional<int> parse_signal(std::string_view text, bool allow_zero = false);

// "SIGTERM" for 15, "SIGRTMIN+3" for real-time signals, "signal 99" otherwise.
std::string signal_name(int sig);

}  // namespace foster
