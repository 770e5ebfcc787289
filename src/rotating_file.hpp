// rotating_file.hpp — an output file foster writes itself: `stdout = "/path"`
// with `stdout_max_size` or `timestamps` (foster.toml(5)).
//
// Lines are appended in batches (one write per read from the service's
// pipe). With a max_size, a line that would take the file over it first
// rotates the file: path.(N-1) -> path.N ... path -> path.1, the oldest
// (path.BACKUPS) replaced, and a new path created; so a rotation falls
// between two lines and a file is over max_size only when one line alone is.
// Every open, rename and create runs with the service's user's rights
// (file_identity.hpp), `O_NOFOLLOW` on the file itself, as when the service
// opens its own output file.
//
// Writing never stops foster: a failed write (a full disk, a file system
// gone read-only) drops the lines of the batch and counts them; foster's log
// says so once when it starts and once, with the count, when lines are
// written again. A file that cannot be opened is tried again at most once a
// second, its lines dropped and counted meanwhile.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config.hpp"
#include "fd.hpp"

namespace foster {

struct FileSinkSpec {
    std::string path;
    std::optional<std::uint64_t> max_size;  // none: never rotated by foster
    int backups = 5;                        // kept rotated files, path.1 .. path.BACKUPS
    std::optional<Credentials> credentials; // the service's user, for the file's rights
    std::optional<mode_t> umask;
    bool operator==(const FileSinkSpec&) const = default;
};

class RotatingFile {
public:
    // `owner`: the service's name, for foster's log.
    RotatingFile(std::string owner, FileSinkSpec spec);

    [[nodiscard]] const FileSinkSpec& spec() const { return spec_; }

    // Closes and opens the path again (created if missing), after writing
    // what waits; false (errno set) if it cannot be opened, and then the
    // file open so far, if any, stays in use.
    bool reopen();

    // One line: stamp + text + marker + '\n' (stamp and marker may be
    // empty); written at the next flush().
    void append_line(std::string_view stamp, std::string_view text, std::string_view marker);
    void flush();

    [[nodiscard]] std::uint64_t dropped_lines() const { return dropped_total_; }
    [[nodiscard]] bool is_open() const { return fd_.valid(); }

private:
    bool open_file();
    void rotate();
    void drop(std::string_view lines, int error);
    void report_recovery();

    std::string owner_;
    FileSinkSpec spec_;
    Fd fd_;
    std::uint64_t size_ = 0;       // of the open file, as foster wrote it
    std::string batch_;
    bool line_cut_ = false;        // a write stopped inside a line: end it before the next
    std::uint64_t dropped_ = 0;    // since the last report
    std::uint64_t dropped_total_ = 0;
    int failing_errno_ = 0;        // the error being reported, 0 while writes work
    int open_errno_ = 0;           // why the last open failed
    std::chrono::steady_clock::time_point next_open_attempt_{};
};

}  // namespace foster
