#include "quoted_arg.hpp"

namespace foster {

std::string quoted_arg(std::string_view text) {
    constexpr std::size_t shown = 64;
    constexpr char digits[] = "0123456789abcdef";
    std::string out = "'";
    for (const char ch : text.substr(0, shown)) {
        const auto c = static_cast<unsigned char>(ch);
        if (c < 0x20 || c == 0x7f) {
            out += "\\x";
            out += digits[c >> 4];
            out += digits[c & 0xf];
        } else {
            out += ch;  // UTF-8 (or not) is left as it is: only control bytes could break the line
        }
    }
    if (text.size() > shown) out += "...";
    out += "'";
    return out;
}

}  // namespace foster
