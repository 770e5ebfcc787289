// schedule.hpp — `schedule = "*/15 * * * *"` or `"every 1h"`: when a oneshot
// service runs (foster.toml(5), SCHEDULES).
//
// Pure: parsing and the next-time computation read no clock and no global
// except the local time zone (through localtime_r/mktime, so TZ applies), and
// the unit tests drive them with time points they make up.
//
// Cron times are local wall-clock times, as cron has always had them. The
// next run is the first minute after `after` whose broken-down local time
// matches, converted with mktime(tm_isdst = -1). So at the changes of
// daylight saving time:
// - a time that does not exist (the hour skipped when clocks go forward) is
//   run at the instant mktime makes of it, the same wall time one hour later
//   (02:30 -> 03:30): a daily 02:30 job still runs that day;
// - a time that happens twice (the hour repeated when clocks go back) runs
//   once: after a run, the search starts at the next instant, and the second
//   02:30 names the same broken-down time mktime already resolved.
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "duration.hpp"

namespace foster {

using WallClock = std::chrono::system_clock;

struct CronFields {
    std::bitset<60> minutes;
    std::bitset<24> hours;
    std::bitset<32> days;      // 1..31
    std::bitset<13> months;    // 1..12
    std::bitset<7> weekdays;   // 0 = Sunday .. 6 (7 is read as 0)
    // cron's rule: when both day fields are restricted (neither is "*"), a
    // day matching either one matches.
    bool days_restricted = false;
    bool weekdays_restricted = false;
    bool operator==(const CronFields&) const = default;
};

struct Schedule {
    std::string text;               // as written, for messages and status
    std::optional<CronFields> cron; // cron syntax or @name
    Millis every{0};                // "every DURATION": > 0 when cron is empty
    bool operator==(const Schedule&) const = default;
};

struct ScheduleParse {
    std::optional<Schedule> schedule;
    std::string error;       // what is wrong, naming the field
    std::size_t offset = 0;  // where in the text the problem starts
};

// "M H DOM MON DOW" (lists, ranges, steps, "*", month and day names jan..dec,
// sun..sat), @yearly/@annually/@monthly/@weekly/@daily/@midnight/@hourly, or
// "every DURATION" (duration.hpp; more than 0).
ScheduleParse parse_schedule(std::string_view text);

// The first cron time strictly after `after` (minute resolution), in the
// local time zone; nothing when none exists within ~8 years (cannot happen for
// a schedule parse_schedule accepted, which checks that every day it names
// exists in one of its months).
std::optional<WallClock::time_point> next_cron_time(const CronFields& cron, WallClock::time_point after);

}  // namespace foster
