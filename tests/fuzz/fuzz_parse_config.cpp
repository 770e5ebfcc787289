// The config loader on any text: a config or errors, never both, never a
// crash or a hang; every error has a message, and the errors come sorted by
// line and column. Each input is loaded twice: alone and as in the "both"
// mode (a PROGRAM given), which validates differently. The seeds are the
// configs of tests/data and config/ as they are.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config.hpp"
#include "fuzz_check.hpp"

namespace {

void check(std::string_view text, bool has_program) {
    const foster::LoadResult result = foster::parse_config(text, "fuzz.toml", foster::LoadOptions{has_program});
    FUZZ_CHECK(result.config.has_value() == result.errors.empty());
    for (std::size_t i = 0; i < result.errors.size(); ++i) {
        const foster::ConfigError& e = result.errors[i];
        FUZZ_CHECK(!e.message.empty());
        FUZZ_CHECK(e.line >= 0 && e.column >= 0);
        FUZZ_CHECK(!e.to_string().empty());
        if (i > 0) {
            const foster::ConfigError& before = result.errors[i - 1];
            FUZZ_CHECK(before.line < e.line || (before.line == e.line && before.column <= e.column));
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    check(text, false);
    check(text, true);
    return 0;
}
