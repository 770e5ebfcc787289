// output.hpp — `stdout = "prefix"`: a service's output, line by line, as
// "NAME | line" on foster's own stdout or stderr.
//
// The pipe belongs to the service, not to a run of it: it is created once and
// kept across restarts, so a line written just before a crash is read after
// it, never lost with a closed pipe. foster holds both ends, so the read end
// never sees EOF; a partial line is flushed when the run ends and at exit.
// Lines go to foster's stdout or stderr through a NonblockingWriter shared by
// every prefix service of that destination: foster is their only writer, so
// lines from different services never interleave mid-line, and a destination
// that does not take them never blocks foster (nonblocking_writer.hpp).
#pragma once

#include <string>

#include "fd.hpp"
#include "log_buffer.hpp"
#include "nonblocking_writer.hpp"

namespace foster {

class PrefixPipe {
public:
    // Returns an invalid PrefixPipe (check valid()) if pipe2 fails.
    PrefixPipe(std::string name, NonblockingWriter& destination);

    [[nodiscard]] bool valid() const { return read_end_.valid(); }
    [[nodiscard]] int read_fd() const { return read_end_.get(); }
    [[nodiscard]] int write_fd() const { return write_end_.get(); }

    // Reads what is there and writes every complete line.
    void drain();
    // Writes a pending partial line (with a newline added).
    void flush_partial();
    // Every complete line is also kept in `buffer` as `stream` of this service.
    void keep_lines_in(LogBuffer& buffer, LogStream stream) {
        buffer_ = &buffer;
        stream_ = stream;
    }

private:
    void emit(std::string_view line);
    // One complete line: appended to `out` as "NAME | line\n", and kept.
    void take_line(std::string& out, std::string_view line, std::int64_t now_ms);

    std::string name_;
    std::string prefix_;  // "NAME | "
    NonblockingWriter& destination_;
    Fd read_end_;
    Fd write_end_;
    std::string pending_;  // an incomplete line
    LogBuffer* buffer_ = nullptr;
    LogStream stream_ = LogStream::out;
};

// Formats one prefixed line (exposed for the unit tests).
std::string prefixed_line(std::string_view prefix, std::string_view line);

}  // namespace foster
