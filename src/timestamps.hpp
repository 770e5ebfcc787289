// timestamps.hpp — `timestamps = "none" | "iso" | "mono"`: the time a line
// reached foster, written in front of it (foster.toml(5)).
//
//   iso    2026-12-06T20:15:02.123Z   UTC, milliseconds (RFC 3339): a wall
//          clock readable anywhere; it follows that clock when it is set.
//   mono   1234567.123                seconds since boot with milliseconds
//          (CLOCK_BOOTTIME: counts suspend too, never goes back), the
//          number `dmesg` and the journal's monotonic field show.
//
// Both clocks are read once per read from a service's pipe, not per line: the
// lines of one read reached foster together.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace foster {

enum class TimestampStyle { none, iso, mono };

// When a line reached foster, on both clocks, in milliseconds.
struct LineTime {
    std::int64_t real_ms = 0;  // since the epoch (CLOCK_REALTIME)
    std::int64_t boot_ms = 0;  // since boot (CLOCK_BOOTTIME)

    static LineTime now();
};

// "2026-12-06T20:15:02.123Z" for a time since the epoch in milliseconds.
std::string format_iso_ms(std::int64_t real_ms);
// "1234567.123" for a time since boot in milliseconds.
std::string format_mono_ms(std::int64_t boot_ms);

// The stamp and the space after it, as lines carry it; the last one is
// cached, so the lines of one read cost one comparison each.
class Stamper {
public:
    explicit Stamper(TimestampStyle style) : style_(style) {}

    [[nodiscard]] TimestampStyle style() const { return style_; }
    // "" for none.
    std::string_view stamp(const LineTime& time);

private:
    TimestampStyle style_;
    std::int64_t cached_ms_ = -1;
    std::string text_;
};

}  // namespace foster
