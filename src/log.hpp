// log.hpp — foster's own messages, one line each, on stderr or to the journal.
//
// Each message is written with a single write(2) so lines from foster and
// from its children never interleave mid-line. When stderr is connected to
// the journal (JOURNAL_STREAM names it), foster sends each line to journald
// through libsystemd (sd_journal_sendv) instead: PRIORITY= set per line,
// MESSAGE= without the "foster: " prefix, SYSLOG_IDENTIFIER=foster, and
// FOSTER_SERVICE=NAME on lines about a service, so
// `journalctl -u foster FOSTER_SERVICE=web` shows what foster said about web.
// Without libsystemd (foster-static) it falls back to "<N>"-prefixed lines on
// stderr, which journald turns into the same priorities.
#pragma once

#include <string>
#include <string_view>

namespace foster::log {

enum class Level { quiet, normal, verbose };

// Chooses the verbosity and looks once whether stderr is the journal.
void init(Level level);

// Whether fd 2 is the journal stream systemd connected: JOURNAL_STREAM is
// "DEVICE:INODE" of that stream, and fd 2 must still be that very stream.
bool stderr_is_the_journal();
Level level();

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
