// log_buffer.hpp — the recent output of each service, kept in memory for
// `fosterctl logs` (fosterctl(1), foster.toml(5) `log_buffer`).
//
// Each service whose output passes through foster has a ring of its last
// lines, bounded twice: at most `log_buffer` lines, and at most
// `log_buffer` × bytes_per_line bytes of text, so a service printing long
// lines keeps fewer of them instead of more memory. Lines of earlier runs stay
// until newer ones push them out; each carries the run it came from. Syslog
// messages (syslog_source.hpp) share one more ring, each line under its tag.
//
// Every line gets a sequence number from one counter: the order in which
// foster received it, across services. Merging services sorts by it, not by
// the wall clock, which may step.
//
// Pure but for realtime_now_ms(): no I/O, and the caller passes the time,
// so it is unit-tested as it is. The listener is how `logs -f` followers hear of new
// lines (control_server.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "heap_optional.hpp"

namespace foster {

enum class LogStream : std::uint8_t { out, err, syslog };

// "stdout", "stderr", "syslog": the spelling on the wire and in --json.
std::string_view stream_name(LogStream stream);
std::optional<LogStream> parse_stream(std::string_view name);

struct LogLine {
    std::uint64_t seq = 0;     // arrival order across every service, from 1
    std::int64_t time_ms = 0;  // when foster read it: ms since the epoch (CLOCK_REALTIME)
    std::string name;          // the service, or the syslog tag
    LogStream stream = LogStream::out;
    std::uint32_t run = 0;     // the service's run (1 = its first); 0 for syslog
    int priority = -1;         // syslog: facility × 8 + severity; -1 otherwise
    std::string text;          // without its newline; any bytes
    bool operator==(const LogLine&) const = default;
};

// How much text a service may keep per line of `log_buffer`: the default of
// 1000 lines holds at most 256 KiB of text.
inline constexpr std::size_t log_bytes_per_line = 256;
// `log_buffer` when the config does not say.
inline constexpr std::size_t default_log_lines = 1000;

// CLOCK_REALTIME in milliseconds: the time stamped on a line.
std::int64_t realtime_now_ms();

// One bounded ring of lines.
class LogRing {
public:
    explicit LogRing(std::size_t max_lines = default_log_lines);

    // Keeps `line`, dropping the oldest lines while either bound is passed
    // (the newest line always stays, even if longer than the byte bound).
    void push(LogLine line);
    // Lowers or raises the bounds (a reload); drops what no longer fits.
    void resize(std::size_t max_lines);

    [[nodiscard]] const std::deque<LogLine>& lines() const;
    [[nodiscard]] std::size_t bytes() const { return bytes_; }
    [[nodiscard]] std::size_t max_lines() const { return max_lines_; }
    [[nodiscard]] std::size_t max_bytes() const { return max_lines_ * log_bytes_per_line; }

private:
    void trim();

    // Made at the first line: an empty std::deque already holds about 600
    // bytes, and most of ten thousand services never send foster a line.
    // On the heap: a std::deque is 80 bytes even before it is made.
    HeapOptional<std::deque<LogLine>> lines_;
    std::size_t bytes_ = 0;  // text bytes held
    std::size_t max_lines_;
};

// What `fosterctl logs` asks for.
struct LogQuery {
    std::vector<std::string> names;       // none: every service and syslog tag
    std::optional<std::size_t> last;      // -n: only the last this many of the merged lines
    std::optional<std::int64_t> since_ms; // --since: lines at or after this time (ms since the epoch)
};

class LogBuffer {
public:
    using Listener = std::function<void(const LogLine&)>;

    // A service's ring: created with `max_lines` (0: the service keeps no
    // lines, but is known, so `logs NAME` says so rather than "unknown").
    void configure(const std::string& service, std::size_t max_lines);
    // Services removed from the config: the lines of every service not
    // named here go.
    void keep_only(const std::vector<std::string>& services);
    // A new run of the service begins: its next lines carry the next number.
    void new_run(const std::string& service);
    // Whether syslog lines are kept (in a ring of `max_lines`; 0 = none).
    void configure_syslog(std::size_t max_lines);

    // A complete line of a service's output (or a syslog message, with its
    // tag as `name`). Ignored for a service with no ring (not configured or 0).
    void append(std::string_view name, LogStream stream, std::string_view text, std::int64_t time_ms,
                int priority = -1);

    // The lines asked for, in arrival order. An error text (and nothing)
    // when a name is neither a service nor possibly a syslog tag, or names a
    // service that keeps no lines while no syslog lines are kept either.
    struct Selection {
        std::vector<const LogLine*> lines;
        std::string error;
    };
    [[nodiscard]] Selection select(const LogQuery& query) const;
    // Whether a line belongs to what `names` asks for (none: everything).
    [[nodiscard]] static bool wanted(const LogLine& line, const std::vector<std::string>& names);

    // Called with every line appended (one listener: the control server).
    void set_listener(Listener listener) { listener_ = std::move(listener); }

    [[nodiscard]] const LogRing* ring(const std::string& service) const;
    [[nodiscard]] const LogRing& syslog_ring() const { return syslog_; }
    [[nodiscard]] bool keeps_syslog() const { return syslog_.max_lines() > 0; }

private:
    struct ServiceLog {
        LogRing ring;
        std::uint32_t run = 0;
    };
    // std::less<>: looked up by string_view on every line, without a copy.
    std::map<std::string, ServiceLog, std::less<>> services_;
    LogRing syslog_{0};
    std::uint64_t next_seq_ = 1;
    Listener listener_;
};

}  // namespace foster
