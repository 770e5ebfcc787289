// control_protocol.hpp — what foster and fosterctl say to each other.
//
// One request per connection on a unix stream socket; the full grammar is in
// docs/PROTOCOL.md. A request is one line:
//
//     foster/1 COMMAND [ARG...]\n
//
// tokens separated by single spaces, printable ASCII, at most
// max_request_bytes including the newline. The answer is a status line,
// "ok" or "error TEXT", then body lines, then foster closes the connection.
// Text keeps both sides simple to read, debug with socat, and fuzz.
//
// Everything here is pure (no I/O) so it is unit-tested and fuzzed.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "duration.hpp"

namespace foster::control {

inline constexpr std::string_view protocol_version = "foster/1";
inline constexpr std::size_t max_request_bytes = 4096;
// A service name on the wire: 1 to this many of [A-Za-z0-9_.@-] ('@' for
// instances, NAME@N).
inline constexpr std::size_t max_name_bytes = 128;
// The longest --wait=MS accepted: the longest duration parse_duration accepts.
inline constexpr Millis max_wait{std::int64_t{1} << 33};

enum class Command { status, start, stop, restart, signal, reload, shutdown, check, reopen, logs };

// "status", "start", ...: the spelling on the wire and on fosterctl's command line.
std::string_view command_name(Command command);
std::optional<Command> parse_command(std::string_view name);

// 1 to max_name_bytes of [A-Za-z0-9_.@-]: what a request may name.
bool valid_name(std::string_view name);

struct Request {
    Command command = Command::status;
    std::vector<std::string> names;   // services named (may be empty for status/check)
    int signal = 0;                   // Command::signal: the signal to send
    std::optional<Millis> wait;       // start/stop/restart: answer once reached, or after this long
                                      // (0 to max_wait)
    bool overlap = false;             // restart --mode=overlap: the new process starts beside the old
    // logs (log_protocol.hpp): --last=N lines, --since=MS before now, --follow.
    std::optional<std::uint64_t> last;
    std::optional<Millis> since;
    bool follow = false;
    bool operator==(const Request&) const = default;
};

struct ParsedRequest {
    std::optional<Request> request;
    std::string error;  // what was wrong, for "error TEXT"
};

// Decodes one request line (without or with its trailing '\n'). Never throws,
// never reads past `line`; anything not in the grammar is an error.
ParsedRequest parse_request(std::string_view line);

// Encodes a request as one line, '\n' included. The signal goes as its
// number, so the line is never longer than the one it was parsed from.
std::string format_request(const Request& request);

// One service in a status answer.
struct StatusRow {
    std::string name;
    std::string state;                 // stopped, starting, running, backoff, stopping, exited, fatal
    std::optional<pid_t> pid;
    std::optional<long long> uptime_ms;
    unsigned restarts = 0;
    std::optional<int> exit_status;
    std::string health = "-";          // "healthy", "unhealthy", "starting" or "-" (no healthcheck)
    std::optional<long long> next_run; // a `schedule`d service's next start, in seconds since the epoch
    // During an overlapping restart: the other run's pid and its role
    // ("serving", "draining", "abandoned"); none otherwise.
    std::optional<pid_t> overlap_pid;
    std::string overlap_role;
    bool operator==(const StatusRow&) const = default;
};

// "service\tNAME\tSTATE\tPID\tUPTIME_MS\tRESTARTS\tEXIT\tHEALTH\tNEXT_RUN\n", "-"
// for none (an empty health is written as "-"), with "\tOVERLAP_PID\tOVERLAP_ROLE"
// before the '\n' only while an overlapping restart runs. parse_status_row takes
// the line with or without its '\n' and checks every field (docs/PROTOCOL.md); a
// row of 8 fields (a foster from before schedules) has no next run. Never throws.
std::string format_status_row(const StatusRow& row);
std::optional<StatusRow> parse_status_row(std::string_view line);

struct Response {
    bool ok = true;
    std::string error;                 // when !ok
    std::vector<StatusRow> rows;       // status
    std::vector<std::string> details;  // "detail\tTEXT" lines: config errors, per-service failures
    bool operator==(const Response&) const = default;
};

// Control characters other than tab in `error` and `details` are written as
// '?', so a line can never be split or forged; an empty error is written as
// "error unspecified error".
std::string format_response(const Response& response);
// Decodes a whole answer (as read until foster closed the connection). Nothing
// for anything format_response could not have written, including a truncated
// answer (no final '\n'). Never throws, never reads past `text`.
std::optional<Response> parse_response(std::string_view text);
// The same, but each status row goes to `on_row`, in order, instead of into
// Response::rows: fosterctl reads the answer for 10,000 services without
// holding 10,000 rows. A row may have gone to `on_row` before a later line
// turns out malformed (and nothing is returned).
std::optional<Response> parse_response(std::string_view text, const std::function<void(StatusRow&&)>& on_row);

// Where the control socket is, for both foster and fosterctl: -s SOCKET, else
// $FOSTER_SOCKET, else control_socket of the config, else /run/foster.sock as
// root and $XDG_RUNTIME_DIR/foster.sock otherwise (/tmp/foster-UID.sock
// without XDG_RUNTIME_DIR). Empty environment variables count as unset.
std::string socket_path(const std::optional<std::string>& from_command_line, const char* env_foster_socket,
                        const std::optional<std::string>& from_config, uid_t uid, const char* env_xdg_runtime_dir);

}  // namespace foster::control
