#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>
#include <optional>
#include <set>
#include <string>

#include "schedule.hpp"

using foster::parse_schedule;
using foster::WallClock;

namespace {

// Sets TZ for one test and puts the old value back.
class LocalZone {
public:
    explicit LocalZone(const char* zone) {
        if (const char* old = std::getenv("TZ")) old_ = old;
        setenv("TZ", zone, 1);
        tzset();
    }
    ~LocalZone() {
        if (old_) setenv("TZ", old_->c_str(), 1);
        else unsetenv("TZ");
        tzset();
    }
    LocalZone(const LocalZone&) = delete;
    LocalZone& operator=(const LocalZone&) = delete;

private:
    std::optional<std::string> old_;
};

// A local time (tm_isdst = -1) as a time point.
WallClock::time_point local(int year, int month, int day, int hour, int minute, int isdst = -1) {
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_isdst = isdst;
    return WallClock::from_time_t(mktime(&tm));
}

// The next time as "YYYY-MM-DD HH:MM ZONE".
std::string next_text(const char* schedule, WallClock::time_point after) {
    const auto parsed = parse_schedule(schedule);
    REQUIRE(parsed.schedule);
    REQUIRE(parsed.schedule->cron);
    const auto next = foster::next_cron_time(*parsed.schedule->cron, after);
    if (!next) return "never";
    const std::time_t t = WallClock::to_time_t(*next);
    std::tm tm{};
    localtime_r(&t, &tm);
    char text[64];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M %Z", &tm);
    return text;
}

}  // namespace

TEST_CASE("schedule: steps, lists and ranges") {
    LocalZone utc("UTC");
    CHECK(next_text("*/15 * * * *", local(2026, 3, 1, 10, 7)) == "2026-03-01 10:15 UTC");
    CHECK(next_text("*/15 * * * *", local(2026, 3, 1, 10, 45)) == "2026-03-01 11:00 UTC");
    CHECK(next_text("5,35 8-9 * * *", local(2026, 3, 1, 9, 35)) == "2026-03-02 08:05 UTC");
    CHECK(next_text("10-50/20 * * * *", local(2026, 3, 1, 9, 31)) == "2026-03-01 09:50 UTC");
    CHECK(next_text("0 12 * * mon-fri", local(2026, 3, 6, 12, 0)) == "2026-03-09 12:00 UTC");  // Fri -> Mon
    CHECK(next_text("0 0 * jun *", local(2026, 3, 1, 0, 0)) == "2026-06-01 00:00 UTC");
    CHECK(next_text("0 0 * * 7", local(2026, 3, 2, 0, 0)) == "2026-03-08 00:00 UTC");  // 7 is Sunday
    // Strictly after: a run at 10:15 is followed by 10:30, not itself.
    CHECK(next_text("*/15 * * * *", local(2026, 3, 1, 10, 15)) == "2026-03-01 10:30 UTC");
}

TEST_CASE("schedule: both day fields restricted means either") {
    LocalZone utc("UTC");
    // The 13th, or any Friday: 2026-03-06 is a Friday before the 13th.
    CHECK(next_text("0 0 13 * fri", local(2026, 3, 1, 0, 0)) == "2026-03-06 00:00 UTC");
    CHECK(next_text("0 0 13 * fri", local(2026, 3, 10, 0, 0)) == "2026-03-13 00:00 UTC");
}

TEST_CASE("schedule: month ends and the leap day") {
    LocalZone utc("UTC");
    CHECK(next_text("0 0 31 * *", local(2026, 4, 1, 0, 0)) == "2026-05-31 00:00 UTC");  // April has 30 days
    CHECK(next_text("0 0 29 2 *", local(2026, 3, 1, 0, 0)) == "2028-02-29 00:00 UTC");
    CHECK(next_text("0 0 29 2 *", local(2096, 3, 1, 0, 0)) == "2104-02-29 00:00 UTC");  // 2100 is no leap year
    CHECK(next_text("59 23 31 12 *", local(2026, 12, 31, 23, 59)) == "2027-12-31 23:59 UTC");
    CHECK(next_text("@monthly", local(2026, 1, 31, 12, 0)) == "2026-02-01 00:00 UTC");
}

TEST_CASE("schedule: named schedules") {
    LocalZone utc("UTC");
    CHECK(next_text("@hourly", local(2026, 3, 1, 10, 0)) == "2026-03-01 11:00 UTC");
    CHECK(next_text("@daily", local(2026, 3, 1, 10, 0)) == "2026-03-02 00:00 UTC");
    CHECK(next_text("@midnight", local(2026, 3, 1, 10, 0)) == "2026-03-02 00:00 UTC");
    CHECK(next_text("@weekly", local(2026, 3, 1, 10, 0)) == "2026-03-08 00:00 UTC");  // Sunday
    CHECK(next_text("@yearly", local(2026, 3, 1, 10, 0)) == "2027-01-01 00:00 UTC");
    CHECK(next_text("@annually", local(2026, 3, 1, 10, 0)) == "2027-01-01 00:00 UTC");
    CHECK(next_text("0 0 1 JAN *", local(2026, 3, 1, 10, 0)) == "2027-01-01 00:00 UTC");
}

TEST_CASE("schedule: the hour skipped when clocks go forward runs an hour later") {
    LocalZone zone("America/New_York");  // 2026-03-08 02:00 EST -> 03:00 EDT
    CHECK(next_text("30 2 * * *", local(2026, 3, 8, 1, 0)) == "2026-03-08 03:30 EDT");
    CHECK(next_text("30 2 * * *", local(2026, 3, 8, 3, 30)) == "2026-03-09 02:30 EDT");
    // Hourly across the gap: 01:00, then 03:00 (02:00 does not exist and
    // names the same instant), never twice.
    CHECK(next_text("0 * * * *", local(2026, 3, 8, 1, 0)) == "2026-03-08 03:00 EDT");
    CHECK(next_text("0 * * * *", local(2026, 3, 8, 3, 0)) == "2026-03-08 04:00 EDT");
}

TEST_CASE("schedule: the hour repeated when clocks go back runs once") {
    LocalZone zone("America/New_York");  // 2026-11-01 02:00 EDT -> 01:00 EST
    const auto parsed = parse_schedule("30 1 * * *");
    REQUIRE(parsed.schedule);
    auto t = local(2026, 11, 1, 0, 0);
    int runs_that_day = 0;
    for (int i = 0; i < 3; ++i) {
        const auto next = foster::next_cron_time(*parsed.schedule->cron, t);
        REQUIRE(next);
        const std::time_t tt = WallClock::to_time_t(*next);
        std::tm tm{};
        localtime_r(&tt, &tm);
        if (tm.tm_mday == 1 && tm.tm_mon == 10) ++runs_that_day;
        t = *next;
    }
    CHECK(runs_that_day == 1);
    // Every 15 minutes through the night: strictly increasing, and no wall
    // time of the repeated hour twice.
    const auto quarter = parse_schedule("*/15 * * * *");
    REQUIRE(quarter.schedule);
    t = local(2026, 11, 1, 0, 50);
    std::set<std::string> seen;
    for (int i = 0; i < 12; ++i) {
        const auto next = foster::next_cron_time(*quarter.schedule->cron, t);
        REQUIRE(next);
        CHECK(*next > t);
        const std::time_t tt = WallClock::to_time_t(*next);
        std::tm tm{};
        localtime_r(&tt, &tm);
        char text[16];
        std::strftime(text, sizeof text, "%H:%M", &tm);
        CHECK(seen.insert(text).second);
        t = *next;
    }
}

TEST_CASE("schedule: every DURATION") {
    const auto parsed = parse_schedule("every 90s");
    REQUIRE(parsed.schedule);
    CHECK_FALSE(parsed.schedule->cron);
    CHECK(parsed.schedule->every == foster::Millis{90'000});
    CHECK(parse_schedule("every 1h").schedule->every == foster::Millis{3'600'000});
}

TEST_CASE("schedule: what is refused, naming the field and where it is") {
    const auto check = [](const char* text, const std::string& error, std::size_t offset) {
        const auto parsed = parse_schedule(text);
        CHECK_FALSE(parsed.schedule);
        CHECK(parsed.error == error);
        CHECK(parsed.offset == offset);
    };
    check("61 * * * *", "minute field '61': 61 is out of range (0-59)", 0);
    check("* 24 * * *", "hour field '24': 24 is out of range (0-23)", 2);
    check("* * 0 * *", "day-of-month field '0': 0 is out of range (1-31)", 4);
    check("* * * foo *", "month field 'foo': 'foo' is not a number or a name", 6);
    check("* * * * 1-8", "day-of-week field '1-8': 8 is out of range (0-7)", 8);
    check("*/0 * * * *", "minute field '*/0': the step '0' is not a number of at least 1", 0);
    check("5-1 * * * *", "minute field '5-1': the range 5-1 goes backwards", 0);
    check("1,,2 * * * *", "minute field '1,,2': an empty list entry", 0);
    check("0 0 30 2 *", "day-of-month field '30': no month of the schedule has that day, so it would never run", 4);
    check("* * * *",
          "a schedule has 5 fields (minute hour day-of-month month day-of-week), an @name such as @daily, or is "
          "\"every DURATION\"; this has 4 field(s)",
          0);
    check("@often", "unknown schedule '@often' (known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)", 0);
    check("every 0s", "'0s' is not a duration of more than 0, like \"30s\", \"15m\" or \"1h\"", 6);
    check("every soon", "'soon' is not a duration of more than 0, like \"30s\", \"15m\" or \"1h\"", 6);
}
