// What fosterctl reads from the socket: any bytes must give a response or
// nothing, never a crash; an accepted response must survive
// format_response -> parse_response unchanged, and the outputs built from its
// rows (status --json, the table) must not crash either. fosterctl reads a
// status answer through the row sink: it must accept exactly what the whole
// parse accepts, with the same rows in the same order.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "control_protocol.hpp"
#include "fuzz_check.hpp"
#include "status_view.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace foster::control;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const auto response = parse_response(text);
    std::vector<StatusRow> streamed_rows;
    const auto streamed =
        parse_response(text, [&streamed_rows](StatusRow&& row) { streamed_rows.push_back(std::move(row)); });
    FUZZ_CHECK(streamed.has_value() == response.has_value());
    if (!response) return 0;
    FUZZ_CHECK(streamed->rows.empty() && streamed_rows == response->rows);
    FUZZ_CHECK(streamed->ok == response->ok && streamed->error == response->error &&
               streamed->details == response->details);
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
