#include "byte_size.hpp"

#include <array>

namespace foster {

namespace {

struct Unit {
    std::string_view name;
    std::uint64_t factor;
};

constexpr std::array<Unit, 7> units{{
    {"B", 1},
    {"KiB", 1ULL << 10}, {"MiB", 1ULL << 20}, {"GiB", 1ULL << 30},
    {"KB", 1'000}, {"MB", 1'000'000}, {"GB", 1'000'000'000},
}};

constexpr std::uint64_t max_size = std::uint64_t{1} << 63;

}  // namespace

std::optional<std::uint64_t> parse_byte_size(std::string_view text) {
    const std::size_t digits = text.find_first_not_of("0123456789");
    if (digits == 0 || text.empty()) return std::nullopt;
    std::uint64_t number = 0;
    for (const char c : text.substr(0, digits)) {
        number = number * 10 + static_cast<std::uint64_t>(c - '0');
        if (number > max_size) return std::nullopt;
    }
    if (digits == std::string_view::npos) return number;
    std::string_view suffix = text.substr(digits);
    if (suffix.front() == ' ') suffix.remove_prefix(1);
    for (const Unit& unit : units) {
        if (suffix != unit.name) continue;
        if (number > max_size / unit.factor) return std::nullopt;
        return number * unit.factor;
    }
    return std::nullopt;
}

std::string format_byte_size(std::uint64_t bytes) {
    for (auto it = units.rbegin(); it != units.rend(); ++it)
        if (bytes != 0 && it->factor > 1 && bytes % it->factor == 0 && (it->factor & (it->factor - 1)) == 0)
            return std::to_string(bytes / it->factor) + std::string(it->name);
    for (auto it = units.rbegin(); it != units.rend(); ++it)
        if (bytes != 0 && it->factor > 1 && bytes % it->factor == 0)
            return std::to_string(bytes / it->factor) + std::string(it->name);
    return std::to_string(bytes) + "B";
}

}  // namespace foster
