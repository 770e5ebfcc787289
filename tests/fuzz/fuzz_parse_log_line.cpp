// What fosterctl logs reads from the socket: a line parse_log_line accepts is
// written back by format_log_line byte for byte (one spelling per line), and
// what it holds shows as text and JSON without a crash; the JSON never holds
// a raw control character or newline.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "log_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (const auto line = foster::control::parse_log_line(text)) {
        std::string_view expected = text;
        if (!expected.empty() && expected.back() == '\n') expected.remove_suffix(1);
        const std::string again = foster::control::format_log_line(*line);
        FUZZ_CHECK(again.substr(0, again.size() - 1) == expected);
        const std::string json = foster::control::log_line_json(*line);
        for (std::size_t i = 0; i + 1 < json.size(); ++i)
            FUZZ_CHECK(static_cast<unsigned char>(json[i]) >= 0x20 && json[i] != 0x7f);
        (void)foster::control::log_line_text(*line);
    }
    if (const auto why = foster::control::parse_cut(text)) FUZZ_CHECK(foster::control::format_cut(*why) == "cut\t" + *why + "\n");
    return 0;
}
