// log.hpp — foster's own messages, one line each, on stderr or to the journal.
//
// Lines go out through a NonblockingWriter on fd 2, the very one that writes
// the prefix lines of `stderr = "prefix"` services: foster is its only
// writer, so foster's lines and those never interleave mid-line, and a stderr
// that is a full pipe, a paused terminal, a pipe whose reader is gone, a
// closed descriptor or a file on a full disk never blocks foster and never
// ends it (SIGPIPE is blocked once foster runs; lines it cannot write are
// kept up to a bound or dropped and counted, nonblocking_writer.hpp). When stderr is connected to
// the journal (JOURNAL_STREAM names it), foster sends each line to journald
// through libsystemd (sd_journal_sendv) instead: PRIORITY= set per line,
// MESSAGE= without the "foster: " prefix, SYSLOG_IDENTIFIER=foster, and
// FOSTER_SERVICE=NAME on lines about a service, so
// `journalctl -u foster FOSTER_SERVICE=web` shows what foster said about web.
// Without libsystemd (foster-static) it falls back to "<N>"-prefixed lines on
// stderr, which journald turns into the same priorities.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace foster {
class NonblockingWriter;
}

namespace foster::log {

enum class Level { quiet, normal, verbose };

// Chooses the verbosity and looks once whether stderr is the journal.
void init(Level level);

// Whether fd 2 is the journal stream systemd connected: JOURNAL_STREAM is
// "DEVICE:INODE" of that stream, and fd 2 must still be that very stream.
bool stderr_is_the_journal();
Level level();

// The writer of fd 2 that foster's own lines go through; the service runner
// attaches it to its loop and sends prefix lines for stderr through it too.
NonblockingWriter& stderr_writer();
// At exit: lets what waits go out, for at most `limit` (nothing to do, and
// no cost, when nothing was ever logged).
void finish(std::chrono::milliseconds limit);

// Errors that make foster exit: shown even with -q.
void fatal(std::string_view message);
// Problems foster survives (a failed exec, a config reload refused, ...).
void error(std::string_view message);
// What a person watching wants to know: state changes, ignored signals.
void info(std::string_view message);
// With -v only.
void debug(std::string_view message);

// While one lives, the lines logged are about that service: in the journal
// they carry FOSTER_SERVICE=NAME. The text itself still names the service.
// Nests (the innermost wins); foster is single-threaded, so a scope is enough.
class About {
public:
    explicit About(std::string_view service);
    ~About();
    About(const About&) = delete;
    About& operator=(const About&) = delete;

private:
    std::string_view previous_;
};

// strerror(errno_value) as a std::string, safe to keep.
std::string errno_text(int errno_value);

}  // namespace foster::log
