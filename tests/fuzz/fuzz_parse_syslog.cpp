// What foster reads from /dev/log, which any local process can send to: any
// bytes make a message without a crash; its priority is a valid PRI, its name
// one foster can show and be asked for, and its text a part of the datagram
// without the trailing newlines and NULs.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "log_protocol.hpp"
#include "syslog_message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view datagram(reinterpret_cast<const char*>(data), size);
    const foster::SyslogMessage m = foster::parse_syslog(datagram);
    FUZZ_CHECK(m.priority >= 0 && m.priority <= 191);
    FUZZ_CHECK(foster::control::valid_log_name(m.name));
    FUZZ_CHECK(m.name.size() <= foster::max_syslog_tag || m.name == "syslog");
    FUZZ_CHECK(datagram.find(m.text) != std::string_view::npos);
    if (!m.text.empty()) FUZZ_CHECK(m.text.back() != '\n' && m.text.back() != '\0');
    if (m.pid) FUZZ_CHECK(*m.pid >= 0);
    return 0;
}
