// foster's and fosterctl's command lines: any argv at all (NUL bytes split
// the input into arguments; the first byte picks the program) must give
// options or one error, never both, never a crash; the error is one line
// (main() prints it after "foster: " / "fosterctl: ").
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fosterctl_options.hpp"
#include "fuzz_check.hpp"
#include "options.hpp"

namespace {

std::vector<std::string> split_args(std::string_view input, const char* program) {
    std::vector<std::string> args{program};
    for (std::size_t pos = 0; pos <= input.size();) {
        const std::size_t end = std::min(input.find('\0', pos), input.size());
        args.emplace_back(input.substr(pos, end - pos));
        pos = end + 1;
    }
    return args;
}

void check_one_line(const std::string& error) {
    FUZZ_CHECK(!error.empty());
    FUZZ_CHECK(error.find('\n') == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (data[0] & 1) {
        const auto args = split_args(input, "foster");
        const foster::ParsedOptions parsed = foster::parse_options(args);
        FUZZ_CHECK(parsed.options.has_value() == parsed.error.empty());
        if (!parsed.options) check_one_line(parsed.error);
    } else {
        const auto args = split_args(input, "fosterctl");
        foster::ctl::Invocation invocation;
        bool help = false, version = false;
        const std::string error = foster::ctl::parse_command_line(args, invocation, help, version);
        if (!error.empty()) check_one_line(error);
    }
    return 0;
}
