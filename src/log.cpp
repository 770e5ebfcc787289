#include "log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace foster::log {

namespace {

Level current_level = Level::normal;
bool stderr_is_journal = false;

// JOURNAL_STREAM is "DEVICE:INODE" of the stream systemd connected; it only
// describes our stderr if fd 2 is still that very stream.
bool detect_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (stream == nullptr) return false;
    struct stat st {};
    if (fstat(STDERR_FILENO, &st) != 0) return false;
    const std::string expected =
        std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
        std::to_string(static_cast<unsigned long long>(st.st_ino));
    return expected == stream;
}

// Priorities as in syslog(3) / sd-daemon(3): err = 3, info = 6, debug = 7.
void emit(int priority, std::string_view message) {
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
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        const ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // nowhere to report a failed report
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

}  // namespace

void init(Level level) {
    current_level = level;
    stderr_is_journal = detect_journal();
}

Level level() { return current_level; }

void fatal(std::string_view message) { emit(3, message); }

void error(std::string_view message) {
    if (current_level != Level::quiet) emit(3, message);
}

void info(std::string_view message) {
    if (current_level != Level::quiet) emit(6, message);
}

void debug(std::string_view message) {
    if (current_level == Level::verbose) emit(7, message);
}

std::string errno_text(int errno_value) {
    // strerror is fine here: single-threaded, and the text is copied at once.
    return std::strerror(errno_value);
}

}  // namespace foster::log
