#include "log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "nonblocking_writer.hpp"
#include "systemd.hpp"

namespace foster::log {

namespace {

Level current_level = Level::normal;
bool stderr_is_journal = false;
std::string_view current_service;

// How lines reach the journal when stderr is the journal: decided at the first
// line, so a foster that logs nothing never loads libsystemd.
enum class JournalRoute { undecided, native, prefixed };
JournalRoute journal_route = JournalRoute::undecided;

// Made at the first line (or when the service runner asks for it), so a
// foster that logs nothing, the entrypoint's usual case, spends nothing on it.
std::optional<NonblockingWriter> stderr_lines;

NonblockingWriter& the_stderr_writer() {
    if (!stderr_lines) stderr_lines.emplace(STDERR_FILENO);
    return *stderr_lines;
}

bool send_to_journal(int priority, std::string_view message) {
    if (journal_route == JournalRoute::undecided)
        journal_route = systemd::available() ? JournalRoute::native : JournalRoute::prefixed;
    if (journal_route != JournalRoute::native) return false;
    std::vector<std::string> fields;
    fields.reserve(4);
    fields.push_back("MESSAGE=" + std::string(message));
    fields.push_back("PRIORITY=" + std::to_string(priority));
    fields.emplace_back("SYSLOG_IDENTIFIER=foster");
    if (!current_service.empty()) fields.push_back("FOSTER_SERVICE=" + std::string(current_service));
    return systemd::journal_send(fields);
}

// Priorities as in syslog(3) / sd-daemon(3): crit = 2, err = 3, info = 6,
// debug = 7.
void emit(int priority, std::string_view message) {
    if (stderr_is_journal && send_to_journal(priority, message)) return;
    std::string line;
    line.reserve(message.size() + 16);
    if (stderr_is_journal) {
        line += '<';
        line += static_cast<char>('0' + priority);
        line += '>';
    }
    line += "foster: ";
    line += message;
    line += '\n';
    the_stderr_writer().write_lines("foster", line);
}

}  // namespace

void init(Level level) {
    current_level = level;
    stderr_is_journal = stderr_is_the_journal();
}

bool stderr_is_the_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (stream == nullptr) return false;
    struct stat st {};
    if (fstat(STDERR_FILENO, &st) != 0) return false;
    const std::string expected =
        std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
        std::to_string(static_cast<unsigned long long>(st.st_ino));
    return expected == stream;
}

Level level() { return current_level; }

NonblockingWriter& stderr_writer() { return the_stderr_writer(); }

void finish(std::chrono::milliseconds limit) {
    if (stderr_lines) stderr_lines->finish(limit);
}

void fatal(std::string_view message) { emit(2, message); }

void error(std::string_view message) {
    if (current_level != Level::quiet) emit(3, message);
}

void info(std::string_view message) {
    if (current_level != Level::quiet) emit(6, message);
}

void debug(std::string_view message) {
    if (current_level == Level::verbose) emit(7, message);
}

About::About(std::string_view service) : previous_(current_service) { current_service = service; }

About::~About() { current_service = previous_; }

std::string errno_text(int errno_value) {
    // strerror is fine here: single-threaded, and the text is copied at once.
    return std::strerror(errno_value);
}

}  // namespace foster::log
