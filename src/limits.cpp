// limits.cpp — see limits.hpp.
#include "limits.hpp"

#include <algorithm>
#include <iterator>

#include "duration.hpp"

namespace foster {

namespace {

struct LimitName {
    std::string_view key;
    int resource;
    std::string_view constant;
    LimitUnit unit;
};

// Alphabetical, so the list in messages reads well.
constexpr LimitName limit_table[] = {
    {"as", RLIMIT_AS, "RLIMIT_AS", LimitUnit::bytes},
    {"core", RLIMIT_CORE, "RLIMIT_CORE", LimitUnit::bytes},
    {"cpu", RLIMIT_CPU, "RLIMIT_CPU", LimitUnit::seconds},
    {"data", RLIMIT_DATA, "RLIMIT_DATA", LimitUnit::bytes},
    {"fsize", RLIMIT_FSIZE, "RLIMIT_FSIZE", LimitUnit::bytes},
    {"locks", RLIMIT_LOCKS, "RLIMIT_LOCKS", LimitUnit::count},
    {"memlock", RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK", LimitUnit::bytes},
    {"msgqueue", RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE", LimitUnit::bytes},
    {"nice", RLIMIT_NICE, "RLIMIT_NICE", LimitUnit::count},
    {"nofile", RLIMIT_NOFILE, "RLIMIT_NOFILE", LimitUnit::count},
    {"nproc", RLIMIT_NPROC, "RLIMIT_NPROC", LimitUnit::count},
    {"rss", RLIMIT_RSS, "RLIMIT_RSS", LimitUnit::bytes},
    {"rtprio", RLIMIT_RTPRIO, "RLIMIT_RTPRIO", LimitUnit::count},
    {"rttime", RLIMIT_RTTIME, "RLIMIT_RTTIME", LimitUnit::micros},
    {"sigpending", RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING", LimitUnit::count},
    {"stack", RLIMIT_STACK, "RLIMIT_STACK", LimitUnit::bytes},
};

const LimitName* by_resource(int resource) {
    for (const auto& entry : limit_table)
        if (entry.resource == resource) return &entry;
    return nullptr;
}

// Digits only, without overflow.
std::optional<std::uint64_t> parse_digits(std::string_view text) {
    if (text.empty() || text.size() > 19) return std::nullopt;
    std::uint64_t n = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return n;
}

std::optional<std::uint64_t> parse_bytes(std::string_view text) {
    const std::size_t digits = text.find_first_not_of("0123456789");
    const auto number = parse_digits(text.substr(0, digits));
    if (!number) return std::nullopt;
    if (digits == std::string_view::npos) return number;
    std::string_view suffix = text.substr(digits);
    if (suffix.size() == 3 && suffix.substr(1) == "iB") suffix.remove_suffix(2);
    else if (suffix.size() == 2 && suffix[1] == 'B') suffix.remove_suffix(1);
    if (suffix.size() != 1) return std::nullopt;
    constexpr std::string_view units = "KMGT";
    const std::size_t power = units.find(static_cast<char>(suffix[0] & ~0x20));  // k = K
    if (power == std::string_view::npos) return std::nullopt;
    const unsigned shift = 10 * static_cast<unsigned>(power + 1);
    if (*number > (UINT64_MAX >> shift)) return std::nullopt;
    return *number << shift;
}

}  // namespace

std::optional<int> limit_resource(std::string_view name) {
    for (const auto& entry : limit_table)
        if (entry.key == name) return entry.resource;
    return std::nullopt;
}

LimitUnit limit_unit(int resource) {
    const LimitName* entry = by_resource(resource);
    return entry != nullptr ? entry->unit : LimitUnit::count;
}

std::string limit_constant_name(int resource) {
    const LimitName* entry = by_resource(resource);
    return entry != nullptr ? std::string(entry->constant) : "resource limit " + std::to_string(resource);
}

std::string limit_names() {
    std::string names;
    for (const auto& entry : limit_table) {
        if (!names.empty()) names += ", ";
        names += entry.key;
    }
    return names;
}

std::optional<std::uint64_t> parse_limit_text(std::string_view text, LimitUnit unit) {
    if (text == "unlimited" || text == "infinity") return RLIM_INFINITY;
    switch (unit) {
        case LimitUnit::count:
        case LimitUnit::micros: return parse_digits(text);
        case LimitUnit::bytes: return parse_bytes(text);
        case LimitUnit::seconds: {
            if (const auto n = parse_digits(text)) return n;
            const auto d = parse_duration(text);
            if (!d) return std::nullopt;
            return static_cast<std::uint64_t>((d->count() + 999) / 1000);
        }
    }
    return std::nullopt;
}

}  // namespace foster
