// syslog_message.hpp — one datagram sent to /dev/log, read (syslog_source.hpp).
//
// What arrives there is what glibc's syslog(3) and util-linux logger(1) send:
//
//     <PRI>Mmm dd hh:mm:ss TAG[PID]: message          (RFC 3164, as glibc does)
//     <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD message (RFC 5424, logger --rfc5424)
//
// and whatever else a local process cares to write. Every part is optional
// and every input gives a message: a missing or bad PRI is user.notice (13),
// a missing tag is "syslog", the rest of the datagram is the text. foster
// stamps its own time, so the sender's timestamp is skipped, not trusted.
//
// Pure: unit-tested and fuzzed (tests/fuzz/fuzz_parse_syslog.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace foster {

inline constexpr int syslog_default_priority = 13;  // user.notice, as syslog(3) and logger use
inline constexpr std::size_t max_syslog_tag = 64;

struct SyslogMessage {
    int priority = syslog_default_priority;  // facility × 8 + severity, 0..191
    std::string name = "syslog";             // the tag, as a log name (valid_log_name)
    std::optional<long> pid;                 // TAG[PID] or the PROCID of RFC 5424
    std::string text;                        // without trailing newlines or NULs
    bool operator==(const SyslogMessage&) const = default;
};

SyslogMessage parse_syslog(std::string_view datagram);

// A tag as a name foster can show and be asked for: bytes other than
// A-Z a-z 0-9 _ . - / become '_', cut at max_syslog_tag; "syslog" if empty.
std::string syslog_name(std::string_view tag);

}  // namespace foster
