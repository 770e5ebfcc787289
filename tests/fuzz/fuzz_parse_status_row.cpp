// One status row: any bytes must give a row or nothing, never a crash. Every
// field has a single spelling, so an accepted row is written back byte for
// byte (with its '\n'), but for a row of 8 fields (a foster from before
// schedules), which is written with its next run, "-".
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "control_protocol.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace foster::control;
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    const auto row = parse_status_row(line);
    if (!row) return 0;
    std::string expected(line);
    if (!expected.empty() && expected.back() == '\n') expected.pop_back();
    if (std::count(expected.begin(), expected.end(), '\t') == 7) expected += "\t-";
    expected += '\n';
    FUZZ_CHECK(format_status_row(*row) == expected);
    FUZZ_CHECK(parse_status_row(expected) == row);
    return 0;
}
