#include "timestamps.hpp"

#include <time.h>

#include <cstdio>

namespace foster {

namespace {

std::int64_t milliseconds(clockid_t clock) {
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// Floor division: times before the epoch still print their millisecond.
std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

}  // namespace

LineTime LineTime::now() { return LineTime{milliseconds(CLOCK_REALTIME), milliseconds(CLOCK_BOOTTIME)}; }

std::string format_iso_ms(std::int64_t real_ms) {
    const std::int64_t seconds = floor_div(real_ms, 1000);
    const auto ms = static_cast<int>(real_ms - seconds * 1000);
    const auto t = static_cast<time_t>(seconds);
    tm utc{};
    gmtime_r(&t, &utc);
    char text[64];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, ms);
    return text;
}

std::string format_mono_ms(std::int64_t boot_ms) {
    char text[32];
    std::snprintf(text, sizeof text, "%lld.%03d", static_cast<long long>(boot_ms / 1000),
                  static_cast<int>(boot_ms % 1000));
    return text;
}

std::string_view Stamper::stamp(const LineTime& time) {
    if (style_ == TimestampStyle::none) return {};
    const std::int64_t ms = style_ == TimestampStyle::iso ? time.real_ms : time.boot_ms;
    if (ms != cached_ms_) {
        cached_ms_ = ms;
        text_ = style_ == TimestampStyle::iso ? format_iso_ms(ms) : format_mono_ms(ms);
        text_ += ' ';
    }
    return text_;
}

}  // namespace foster
