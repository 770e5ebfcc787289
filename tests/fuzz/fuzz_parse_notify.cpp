// What foster reads from the notify socket, which any local process can send
// to: any bytes must parse without a crash; READY=1 is seen exactly when a
// line says so and the datagram has no NUL; a STATUS is the last STATUS=
// line's value and never holds a newline or a NUL.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "notify.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const foster::NotifyMessage m = foster::parse_notify_message(text, 42);
    FUZZ_CHECK(m.sender == 42);
    const bool has_nul = text.find('\0') != std::string_view::npos;
    bool ready_line = false;
    std::string_view last_status;
    bool has_status = false;
    for (std::size_t start = 0; start <= text.size();) {
        const std::size_t nl = text.find('\n', start);
        const std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
        if (line == "READY=1") ready_line = true;
        if (line.substr(0, 7) == "STATUS=") {
            has_status = true;
            last_status = line.substr(7);
        }
        if (nl == std::string_view::npos) break;
        start = nl + 1;
    }
    FUZZ_CHECK(m.ready == (ready_line && !has_nul));
    FUZZ_CHECK(m.status.has_value() == (has_status && !has_nul));
    if (m.status) {
        FUZZ_CHECK(*m.status == last_status);
        FUZZ_CHECK(m.status->find('\n') == std::string::npos);
    }
    return 0;
}
