// log.hpp — foster's own messages, one line each, on stderr.
//
// Each message is written with a single write(2) so lines from foster and
// from its children never interleave mid-line. When stderr is connected to
// the journal (JOURNAL_STREAM names it), lines carry a "<N>" priority prefix
// that journald turns into the message's priority.
#pragma once

#include <string>
#include <string_view>

namespace foster::log {

enum class Level { quiet, normal, verbose };

// Chooses the verbosity and looks once whether stderr is the journal.
void init(Level level);
Level level();

// Errors that make foster exit: shown even with -q.
void fatal(std::string_view message);
// Problems foster survives (a failed exec, a config reload refused, ...).
void error(std::string_view message);
// What a person watching wants to know: state changes, ignored signals.
void info(std::string_view message);
// With -v only.
void debug(std::string_view message);

// strerror(errno_value) as a std::string, safe to keep.
std::string errno_text(int errno_value);

}  // namespace foster::log
