// What foster reads from a client: any bytes at all must give a request or an
// error, never both, never a crash; an accepted request must survive
// format_request -> parse_request unchanged and fit in max_request_bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "control_protocol.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace foster::control;
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    const ParsedRequest parsed = parse_request(line);
    FUZZ_CHECK(parsed.request.has_value() == parsed.error.empty());
    if (!parsed.request) return 0;
    const std::string text = format_request(*parsed.request);
    FUZZ_CHECK(text.size() <= max_request_bytes);
    const ParsedRequest again = parse_request(text);
    FUZZ_CHECK(again.request && *again.request == *parsed.request);
    return 0;
}
