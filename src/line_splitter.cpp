#include "line_splitter.hpp"

namespace foster {

namespace {

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// How many bytes a UTF-8 character starting with `lead` has (0: not a lead byte).
std::size_t sequence_length(char lead) {
    const auto b = static_cast<unsigned char>(lead);
    if (b < 0x80) return 1;
    if ((b & 0xE0) == 0xC0) return 2;
    if ((b & 0xF0) == 0xE0) return 3;
    if ((b & 0xF8) == 0xF0) return 4;
    return 0;
}

}  // namespace

std::size_t cut_point(std::string_view text, std::size_t limit) {
    if (limit >= text.size() || !is_continuation(text[limit])) return limit;
    // text[limit] continues a character: find its lead byte, at most 3 back.
    for (std::size_t back = 1; back <= 3 && back <= limit; ++back) {
        const char c = text[limit - back];
        if (is_continuation(c)) continue;
        // A lead byte whose character really reaches past the limit: cut before it.
        if (sequence_length(c) > back && limit - back > 0) return limit - back;
        return limit;
    }
    return limit;
}

}  // namespace foster
