#include "duration.hpp"

#include <cmath>
#include <cstdint>

namespace foster {

namespace {

// Longest duration accepted: about 106 days. Large enough for any timeout a
// person means, small enough that arithmetic on time points never overflows.
constexpr std::int64_t max_millis = std::int64_t{1} << 33;

std::optional<std::int64_t> unit_millis(std::string_view unit) {
    if (unit == "ms") return 1;
    if (unit == "s" || unit.empty()) return 1000;
    if (unit == "m") return 60'000;
    if (unit == "h") return 3'600'000;
    return std::nullopt;
}

}  // namespace

std::optional<Millis> parse_duration(std::string_view text) {
    std::size_t i = 0;
    std::int64_t whole = 0;
    if (text.empty() || text[0] < '0' || text[0] > '9') return std::nullopt;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        whole = whole * 10 + (text[i] - '0');
        if (whole > max_millis) return std::nullopt;
    }
    // An optional fraction: "1.5s" is 1500ms.
    std::int64_t frac_num = 0, frac_den = 1;
    if (i < text.size() && text[i] == '.') {
        ++i;
        std::size_t digits = 0;
        for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) {
            if (frac_den < 1'000'000'000) {
                frac_num = frac_num * 10 + (text[i] - '0');
                frac_den *= 10;
            }
        }
        if (digits == 0) return std::nullopt;
    }
    const auto per_unit = unit_millis(text.substr(i));
    if (!per_unit) return std::nullopt;
    const std::int64_t total = whole * *per_unit + frac_num * *per_unit / frac_den;
    if (whole > max_millis / *per_unit || total > max_millis) return std::nullopt;
    return Millis{total};
}

std::optional<Millis> duration_from_seconds(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return std::nullopt;
    const double ms = seconds * 1000.0;
    if (ms >= static_cast<double>(max_millis) + 0.5) return std::nullopt;
    // Rounded half away from zero by hand, as std::round would: its one call
    // made libm a library the full build loads at every exec (~180 KiB of
    // the service runner's PSS). Below 2^33 both steps are exact.
    auto whole = static_cast<std::int64_t>(ms);
    if (ms - static_cast<double>(whole) >= 0.5) ++whole;
    return Millis{whole};
}

std::string format_duration(Millis d) {
    const auto ms = d.count();
    if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
    if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

}  // namespace foster
