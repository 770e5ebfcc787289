// log_protocol.hpp — the lines of a `logs` answer (docs/PROTOCOL.md), and how
// fosterctl shows them.
//
// A `logs` answer is "ok\n", then one line per log line:
//
//     line\tSEQ\tTIME_MS\tNAME\tSTREAM\tRUN\tPRIORITY\tTEXT\n
//
// and, for a follower foster cuts off, a last "cut\tTEXT\n". TEXT carries any
// bytes: backslash and the control characters (tab included) are written as
// "\\" and "\xHH", so no byte of a service's output can split or forge a line;
// everything else (UTF-8 or not) passes unchanged.
//
// Pure (no I/O): unit-tested and fuzzed (tests/fuzz/fuzz_parse_log_line.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "log_buffer.hpp"

namespace foster::control {

// A name a `logs` request and a log line may carry: a service name
// (valid_name), or a syslog tag, which may also hold '/' (postfix/smtpd).
bool valid_log_name(std::string_view name);

std::string format_log_line(const LogLine& line);
// Takes the line with or without its '\n'; nothing for anything
// format_log_line could not have written. Never throws.
std::optional<LogLine> parse_log_line(std::string_view line);

// "cut\tTEXT\n": why foster stopped sending to a follower.
std::string format_cut(std::string_view why);
// The TEXT of a cut line, or nothing if `line` is not one.
std::optional<std::string> parse_cut(std::string_view line);

// Escaping of TEXT (exposed for the tests).
std::string escape_text(std::string_view text);
std::optional<std::string> unescape_text(std::string_view text);

// "2026-12-06T20:15:02.123Z": UTC, millisecond precision.
std::string format_utc_ms(std::int64_t time_ms);

// fosterctl logs: "TIME NAME | text\n", the text as the service wrote it.
std::string log_line_text(const LogLine& line);
// fosterctl logs --json: one object per line, '\n' included:
// {"time":"…Z","time_ms":…,"name":…,"stream":"stdout|stderr|syslog","run":N,
//  "text":…} plus "facility" and "severity" for syslog lines. Bytes of the text
// that are not UTF-8 are written as "\udcXX" (Python's surrogateescape: the
// original bytes can be had back), control characters as JSON escapes.
std::string log_line_json(const LogLine& line);

}  // namespace foster::control
