// What fosterctl reads from the socket: any bytes must give a response or
// nothing, never a crash; an accepted response must survive
// format_response -> parse_response unchanged, and the outputs built from its
// rows (status --json, the table) must not crash either.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "control_protocol.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace foster::control;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto response = parse_response(text);
    if (!response) return 0;
    const std::string written = format_response(*response);
    const auto again = parse_response(written);
    FUZZ_CHECK(again && *again == *response);
    FUZZ_CHECK(format_response(*again) == written);
    const std::string json = status_json(response->rows);
    FUZZ_CHECK(json.size() >= 16 && json.back() == '\n');
    const std::string table = status_table(response->rows);
    FUZZ_CHECK(!table.empty() && table.back() == '\n');
    return 0;
}
