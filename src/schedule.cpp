// schedule.cpp — see schedule.hpp.
#include "schedule.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <ctime>
#include <vector>

namespace foster {

namespace {

struct FieldRule {
    const char* name;  // in messages: "minute field '61': ..."
    int low, high;
    const char* const* names;  // jan..dec or sun..sat, indexed from `low`; nullptr: numbers only
};

constexpr const char* month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* weekday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr FieldRule field_rules[5] = {
    {"minute", 0, 59, nullptr},
    {"hour", 0, 23, nullptr},
    {"day-of-month", 1, 31, nullptr},
    {"month", 1, 12, month_names},
    // 7 is Sunday too, as in every cron.
    {"day-of-week", 0, 7, weekday_names},
};

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// A number, or a name of the field's (case-insensitive); nothing otherwise.
std::optional<int> read_value(std::string_view text, const FieldRule& rule) {
    int value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc{} && end == text.data() + text.size()) return value;
    if (rule.names == nullptr) return std::nullopt;
    const std::string name = lower(text);
    const int count = rule.names == month_names ? 12 : 7;
    for (int i = 0; i < count; ++i)
        if (name == rule.names[i]) return rule.low + i;
    return std::nullopt;
}

// One comma-separated item: *, */S, A, A-B, A-B/S, A/S (A to the end, step S).
// Sets the matching values in `out`; returns an error text, empty on success.
std::string read_item(std::string_view item, const FieldRule& rule, std::vector<bool>& out) {
    std::string_view range = item;
    int step = 1;
    if (const auto slash = item.find('/'); slash != std::string_view::npos) {
        range = item.substr(0, slash);
        const std::string_view step_text = item.substr(slash + 1);
        const auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
        if (ec != std::errc{} || end != step_text.data() + step_text.size() || step < 1)
            return "the step '" + std::string(step_text) + "' is not a number of at least 1";
    }
    int first = rule.low, last = rule.high;
    if (range != "*") {
        const auto dash = range.find('-');
        const auto a = read_value(range.substr(0, dash), rule);
        if (!a) return "'" + std::string(range.substr(0, dash)) + "' is not a number" +
                        (rule.names ? std::string(" or a name") : std::string());
        first = *a;
        if (dash != std::string_view::npos) {
            const auto b = read_value(range.substr(dash + 1), rule);
            if (!b) return "'" + std::string(range.substr(dash + 1)) + "' is not a number" +
                            (rule.names ? std::string(" or a name") : std::string());
            last = *b;
        } else if (item.find('/') == std::string_view::npos) {
            last = first;
        }
        for (const int v : {first, last})
            if (v < rule.low || v > rule.high)
                return std::to_string(v) + " is out of range (" + std::to_string(rule.low) + "-" +
                       std::to_string(rule.high) + ")";
        if (first > last) return "the range " + std::string(range) + " goes backwards";
    }
    for (int v = first; v <= last; v += step) out[static_cast<std::size_t>(v)] = true;
    return {};
}

bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int year, int month /* 1..12 */) {
    static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : days[month - 1];
}

// 0 = Sunday (Sakamoto's method).
int weekday_of(int year, int month, int day) {
    static constexpr int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
    if (month < 3) year -= 1;
    return (year + year / 4 - year / 100 + year / 400 + t[month - 1] + day) % 7;
}

bool day_matches(const CronFields& c, int year, int month, int day) {
    const bool dom = c.days[static_cast<std::size_t>(day)];
    const bool dow = c.weekdays[static_cast<std::size_t>(weekday_of(year, month, day))];
    if (c.days_restricted && c.weekdays_restricted) return dom || dow;
    return dom && dow;
}

struct Named {
    std::string_view name;
    std::string_view expression;
};
constexpr Named named_schedules[] = {
    {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"}, {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},  {"@midnight", "0 0 * * *"}, {"@hourly", "0 * * * *"},
};

ScheduleParse fail(std::string error, std::size_t offset) { return {std::nullopt, std::move(error), offset}; }

ScheduleParse parse_cron(std::string_view text, std::string_view original) {
    // The five fields and where each starts.
    std::vector<std::pair<std::string_view, std::size_t>> fields;
    for (std::size_t i = 0; i < text.size();) {
        if (text[i] == ' ' || text[i] == '\t') {
            ++i;
            continue;
        }
        const std::size_t start = i;
        while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
        fields.emplace_back(text.substr(start, i - start), start);
    }
    if (fields.size() != 5)
        return fail("a schedule has 5 fields (minute hour day-of-month month day-of-week), an @name such as "
                    "@daily, or is \"every DURATION\"; this has " + std::to_string(fields.size()) + " field(s)",
                    0);
    CronFields cron;
    for (std::size_t f = 0; f < 5; ++f) {
        const FieldRule& rule = field_rules[f];
        std::vector<bool> values(static_cast<std::size_t>(rule.high) + 1, false);
        const auto [field, offset] = fields[f];
        std::size_t item_start = 0;
        while (true) {
            const auto comma = field.find(',', item_start);
            const std::string_view item = field.substr(item_start, comma == std::string_view::npos ? field.npos : comma - item_start);
            const std::string why = item.empty() ? std::string("an empty list entry") : read_item(item, rule, values);
            if (!why.empty())
                return fail(std::string(rule.name) + " field '" + std::string(field) + "': " + why, offset);
            if (comma == std::string_view::npos) break;
            item_start = comma + 1;
        }
        for (std::size_t v = 0; v < values.size(); ++v) {
            if (!values[v]) continue;
            switch (f) {
                case 0: cron.minutes.set(v); break;
                case 1: cron.hours.set(v); break;
                case 2: cron.days.set(v); break;
                case 3: cron.months.set(v); break;
                default: cron.weekdays.set(v % 7); break;
            }
        }
        if (f == 2) cron.days_restricted = field.front() != '*';
        if (f == 4) cron.weekdays_restricted = field.front() != '*';
    }
    // "0 0 30 2 *" would never run: say so now rather than never.
    if (cron.days_restricted && !cron.weekdays_restricted) {
        bool possible = false;
        for (int month = 1; month <= 12 && !possible; ++month) {
            if (!cron.months[static_cast<std::size_t>(month)]) continue;
            for (int day = 1; day <= days_in_month(2000, month) && !possible; ++day)
                possible = cron.days[static_cast<std::size_t>(day)];
        }
        if (!possible)
            return fail("day-of-month field '" + std::string(fields[2].first) +
                            "': no month of the schedule has that day, so it would never run",
                        fields[2].second);
    }
    return {Schedule{std::string(original), cron, Millis{0}}, {}, 0};
}

}  // namespace

ScheduleParse parse_schedule(std::string_view text) {
    if (text.starts_with("every ") || text.starts_with("every\t")) {
        std::size_t start = 5;
        while (start < text.size() && (text[start] == ' ' || text[start] == '\t')) ++start;
        const auto every = parse_duration(text.substr(start));
        if (!every || every->count() <= 0)
            return fail("'" + std::string(text.substr(start)) +
                            "' is not a duration of more than 0, like \"30s\", \"15m\" or \"1h\"",
                        start);
        return {Schedule{std::string(text), std::nullopt, *every}, {}, 0};
    }
    if (text.starts_with("@")) {
        for (const auto& named : named_schedules)
            if (text == named.name) return parse_cron(named.expression, text);
        return fail("unknown schedule '" + std::string(text) +
                        "' (known: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)",
                    0);
    }
    return parse_cron(text, text);
}

std::optional<WallClock::time_point> next_cron_time(const CronFields& cron, WallClock::time_point after) {
    const std::time_t after_t = WallClock::to_time_t(after);
    // The search starts at the minute after `after`, in local time.
    std::time_t start_t = after_t + 60;
    std::tm start{};
    if (localtime_r(&start_t, &start) == nullptr) return std::nullopt;
    int year = start.tm_year + 1900, month = start.tm_mon + 1, day = start.tm_mday;
    bool first_day = true;
    // 9 years covers any day a schedule can name (29 Feb across 2100).
    for (int n = 0; n < 9 * 366; ++n) {
        if (cron.months[static_cast<std::size_t>(month)] && day_matches(cron, year, month, day)) {
            for (int hour = 0; hour < 24; ++hour) {
                if (!cron.hours[static_cast<std::size_t>(hour)]) continue;
                if (first_day && hour < start.tm_hour) continue;
                for (int minute = 0; minute < 60; ++minute) {
                    if (!cron.minutes[static_cast<std::size_t>(minute)]) continue;
                    if (first_day && hour == start.tm_hour && minute < start.tm_min) continue;
                    std::tm candidate{};
                    candidate.tm_year = year - 1900;
                    candidate.tm_mon = month - 1;
                    candidate.tm_mday = day;
                    candidate.tm_hour = hour;
                    candidate.tm_min = minute;
                    candidate.tm_isdst = -1;  // whatever is in force then (schedule.hpp: DST)
                    const std::time_t t = mktime(&candidate);
                    if (t != static_cast<std::time_t>(-1) && t > after_t) return WallClock::from_time_t(t);
                }
            }
        }
        first_day = false;
        if (++day > days_in_month(year, month)) {
            day = 1;
            if (++month > 12) {
                month = 1;
                ++year;
            }
        }
    }
    return std::nullopt;
}

}  // namespace foster
