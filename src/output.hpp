// output.hpp — a service's output when foster reads it: `stdout = "prefix"`,
// and an output file with rotation or timestamps (foster.toml(5)).
//
// The pipeline: the service writes into a pipe; foster reads it, cuts the
// bytes into lines (line_splitter.hpp), notes when each read arrived
// (timestamps.hpp), and hands every line to ServiceOutput::deliver(), the
// one place all of a service's lines pass through. deliver() gives each line
// to the sinks of its stream:
//   prefix   "[STAMP ]NAME | line" to foster's stdout or stderr, through a
//            NonblockingWriter shared by every prefix service of that
//            destination (foster is its only writer, so lines from
//            different services never interleave mid-line, and a
//            destination that does not take them never blocks foster);
//   file     "[STAMP ]line" appended to a RotatingFile (rotating_file.hpp);
//   buffer   the line kept in memory for `fosterctl logs` (log_buffer.hpp).
// A sink collects the lines of one wakeup and writes them at its end, so a
// busy service costs a few system calls per 64 KiB, not one per line.
//
// The pipes belong to the service, not to a run of it: created once and kept
// across restarts, so a line written just before a crash is read after it,
// never lost with a closed pipe. foster holds both ends, so the read end
// never sees EOF; an unfinished last line is flushed, with its marker, when
// the run ends. A stream foster does not need to read (an output file with
// neither rotation nor timestamps, `inherit`, `null`, `journal`) gets no
// pipe: the service writes there directly, unless an explicit `log_buffer`
// asks foster to keep a file's or null's lines (then foster reads it too).
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config.hpp"
#include "fd.hpp"
#include "line_splitter.hpp"
#include "log_buffer.hpp"
#include "nonblocking_writer.hpp"
#include "rotating_file.hpp"
#include "timestamps.hpp"

namespace foster {

enum class Stream { out = 0, err = 1 };

// One line as it reached foster.
struct Line {
    Stream stream;         // the pipe it came from (stderr = "stdout" lines come as `out`)
    LineTime time;         // when foster read it
    std::string_view text; // without its newline; bytes as the service wrote them
    LineEnd end;           // newline, or the marker it gets
};

// What decides a service's pipeline; a service whose settings change gets a
// new one at its next start.
struct OutputSettings {
    OutputTarget out;
    OutputTarget err;
    TimestampStyle timestamps = TimestampStyle::none;
    HeapOptional<Credentials> credentials;
    std::optional<mode_t> umask;
    bool keep_lines = false;  // an explicit `log_buffer` > 0: file and null outputs are read too
    bool operator==(const OutputSettings&) const = default;

    static OutputSettings of(const ServiceConfig& config);
};

// Whether foster reads this stream itself (else the service writes to its
// target directly).
bool foster_reads(const OutputTarget& target, const OutputSettings& settings);

class ServiceOutput {
public:
    ServiceOutput(std::string name, OutputSettings settings, NonblockingWriter& stdout_writer,
                  NonblockingWriter& stderr_writer);
    ServiceOutput(const ServiceOutput&) = delete;
    ServiceOutput& operator=(const ServiceOutput&) = delete;

    // Whether a service with these settings needs a ServiceOutput at all.
    static bool needed(const OutputSettings& settings);

    [[nodiscard]] const OutputSettings& settings() const { return settings_; }

    // The pipes of the streams foster reads (once; false with errno if pipe2 failed).
    bool make_pipes();
    // Before each run: the files opened again, as the child opens a plain
    // output file for each run. An empty string, or what failed ("cannot
    // open /var/log/x.log: Permission denied"), errno set.
    std::string prepare();

    // The descriptor the service gets for this stream, -1 when foster does
    // not read it; the end foster watches.
    [[nodiscard]] int write_fd(Stream stream) const;
    [[nodiscard]] int read_fd(Stream stream) const;

    // Reads what the pipe holds (a bounded amount per call: the loop comes
    // back while there is more) and delivers every complete line.
    void drain(Stream stream);
    // The run is over: everything read, the unfinished lines delivered as
    // partial.
    void flush_partial();
    // `fosterctl reopen`: every file this pipeline writes, closed and opened
    // again. Returns what failed, "" when nothing did.
    std::string reopen_files();

    // The one place every line of this service passes, in order: each sink
    // takes it from here.
    void deliver(const Line& line);
    // Every line is also kept in `buffer` (which decides how many it keeps).
    void keep_lines_in(LogBuffer& buffer) { buffer_ = &buffer; }

private:
    struct Pipe {
        Fd read_end;
        Fd write_end;
        LineSplitter splitter;
    };
    static std::size_t index(Stream s) { return static_cast<std::size_t>(s); }
    bool make_pipe(Stream stream);
    void read_lines(Stream stream, int max_reads);
    void end_batch();

    std::string name_;
    std::string prefix_;  // "NAME | "
    OutputSettings settings_;
    Stamper stamper_;
    std::array<bool, 2> reads_{};                   // foster reads this stream
    std::array<Pipe, 2> pipes_;
    std::array<NonblockingWriter*, 2> prefix_to_{};  // the prefix sink's destination, if any
    std::array<std::string, 2> prefix_batch_;
    std::array<std::unique_ptr<RotatingFile>, 2> files_;
    std::array<RotatingFile*, 2> file_of_{};         // stderr may share stdout's file
    LogBuffer* buffer_ = nullptr;
};

// Formats one prefixed line (exposed for the unit tests).
std::string prefixed_line(std::string_view prefix, std::string_view line);

}  // namespace foster
