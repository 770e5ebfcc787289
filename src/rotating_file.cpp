#include "rotating_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "file_identity.hpp"
#include "log.hpp"

namespace foster {

namespace {

// O_NONBLOCK: a FIFO planted at the path must not stall foster's open; it is
// refused just after, as anything that is not a regular file.
constexpr int open_flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK;

std::uint64_t count_lines(std::string_view text) {
    return static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n'));
}

std::string numbered(const std::string& path, int n) { return n == 0 ? path : path + "." + std::to_string(n); }

}  // namespace

RotatingFile::RotatingFile(std::string owner, FileSinkSpec spec) : owner_(std::move(owner)), spec_(std::move(spec)) {}

// On failure the file open so far (if any) stays: its lines still land
// somewhere (the renamed file) rather than being dropped.
bool RotatingFile::open_file() {
    Fd fd;
    {
        const AsServiceUser as_user(spec_.credentials, spec_.umask);
        if (as_user.ok()) fd.reset(::open(spec_.path.c_str(), open_flags, 0666));
    }
    struct stat st {};
    if (fd && fstat(fd.get(), &st) == 0 && !S_ISREG(st.st_mode)) errno = EINVAL;  // "not a regular file"
    if (!fd || !S_ISREG(st.st_mode)) {
        open_errno_ = errno;
        return false;
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
    fd_ = std::move(fd);
    line_cut_ = false;
    return true;
}

bool RotatingFile::reopen() {
    flush();
    const bool opened = open_file();
    next_open_attempt_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    return opened;
}

void RotatingFile::append_line(std::string_view stamp, std::string_view text, std::string_view marker) {
    const std::size_t length = stamp.size() + text.size() + marker.size() + 1;
    if (spec_.max_size && size_ + batch_.size() > 0 && size_ + batch_.size() + length > *spec_.max_size) {
        flush();
        rotate();
    }
    batch_.append(stamp);
    batch_.append(text);
    batch_.append(marker);
    batch_.push_back('\n');
}

// path.(N-1) -> path.N, ..., path -> path.1, then a new path. A rename that
// fails for a missing file is no failure; any other stops the rotation
// and foster goes on appending to the file it has (nothing is lost).
void RotatingFile::rotate() {
    if (!fd_) return;
    {
        const AsServiceUser as_user(spec_.credentials, spec_.umask);
        bool ok = as_user.ok();
        if (ok && spec_.backups == 0) ok = ::unlink(spec_.path.c_str()) == 0 || errno == ENOENT;
        for (int n = spec_.backups; ok && n > 0; --n)
            ok = ::rename(numbered(spec_.path, n - 1).c_str(), numbered(spec_.path, n).c_str()) == 0 || errno == ENOENT;
        if (!ok) {
            log::error(owner_ + ": cannot rotate " + spec_.path + ": " + log::errno_text(errno) +
                       "; still appending to it");
            size_ = 0;  // the next attempt comes after another max_size, not at the next line
            return;
        }
    }
    if (!open_file()) {
        size_ = 0;  // as after a failed rename: the next attempt after another max_size
        log::error(owner_ + ": cannot create " + spec_.path + " after rotating it: " + log::errno_text(open_errno_) +
                   "; still appending to " + numbered(spec_.path, spec_.backups > 0 ? 1 : 0));
    }
}

void RotatingFile::flush() {
    if (batch_.empty()) return;
    if (!fd_ && std::chrono::steady_clock::now() >= next_open_attempt_) {
        if (!open_file()) next_open_attempt_ = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
    if (!fd_) {
        drop(batch_, open_errno_ != 0 ? open_errno_ : EBADF);
        batch_.clear();
        return;
    }
    if (line_cut_) {
        // The end of a line a failed write cut: the next line starts on a line of its own.
        if (::write(fd_.get(), "\n", 1) == 1) {
            line_cut_ = false;
            ++size_;
        }
    }
    std::string_view rest = batch_;
    while (!rest.empty()) {
        const ssize_t n = ::write(fd_.get(), rest.data(), rest.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            // The lines not wholly written are lost; one cut by the short
            // write gets its newline before the next line goes out.
            const std::size_t written = batch_.size() - rest.size();
            const std::size_t last_nl = written == 0 ? std::string::npos : batch_.rfind('\n', written - 1);
            const std::size_t lost_from = last_nl == std::string::npos ? 0 : last_nl + 1;
            line_cut_ = written > lost_from;
            drop(std::string_view(batch_).substr(lost_from), n < 0 ? errno : ENOSPC);
            break;
        }
        size_ += static_cast<std::uint64_t>(n);
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
    if (rest.empty()) report_recovery();
    batch_.clear();
    if (batch_.capacity() > 64 * 1024) std::string().swap(batch_);  // see output.cpp, kept_capacity
}

// Lines lost: counted, and said once per episode.
void RotatingFile::drop(std::string_view lines, int error) {
    const std::uint64_t n = count_lines(lines);
    dropped_ += n;
    dropped_total_ += n;
    if (failing_errno_ == error) return;
    failing_errno_ = error;
    log::error(owner_ + ": cannot write to " + spec_.path + ": " + log::errno_text(error) +
               "; its lines are dropped until it works again");
}

void RotatingFile::report_recovery() {
    if (failing_errno_ == 0) return;
    failing_errno_ = 0;
    log::info(owner_ + ": writing to " + spec_.path + " again after dropping " + std::to_string(dropped_) +
              (dropped_ == 1 ? " line" : " lines"));
    dropped_ = 0;
}

}  // namespace foster
