// duration.hpp — "250ms", "10s", "5m", "1h" or a plain number of seconds.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace foster {

using Millis = std::chrono::milliseconds;

// Parses a duration as foster.toml(5) spells it (DURATIONS). Returns nothing for text that is
// not a duration (no unit guessing, no negative values, no overflow).
std::optional<Millis> parse_duration(std::string_view text);

// Seconds given as a plain TOML number (integer or float) of seconds.
std::optional<Millis> duration_from_seconds(double seconds);

// The shortest exact spelling: 1500ms -> "1500ms", 3000ms -> "3s", 120000ms -> "2m".
std::string format_duration(Millis d);

}  // namespace foster
