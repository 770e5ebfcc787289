#include "nonblocking_writer.hpp"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace foster {

namespace {

// A description of our own on the same pipe or terminal: O_NONBLOCK there
// changes nothing for the others. O_NOCTTY: reopening a terminal must never
// make it foster's controlling terminal.
Fd reopen_nonblocking(int fd) {
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    return Fd{::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
}

}  // namespace

NonblockingWriter::NonblockingWriter(int fd, std::size_t bound) : fd_(fd), bound_(bound) {
    struct stat st {};
    if (fstat(fd, &st) != 0 || S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
        method_ = Method::direct;  // closed (writes fail at once) or a file (never waits)
    } else if (S_ISSOCK(st.st_mode)) {
        method_ = Method::socket;
    } else if ((private_fd_ = reopen_nonblocking(fd))) {
        method_ = Method::private_description;
    } else {
        method_ = Method::poll_first;  // no /proc, or a FIFO we may not reopen
    }
}

NonblockingWriter::~NonblockingWriter() {
    if (loop_ != nullptr && token_ != 0) loop_->unwatch(token_);
}

void NonblockingWriter::attach(EventLoop& loop) {
    loop_ = &loop;
    update_watch();
}

void NonblockingWriter::detach() {
    if (loop_ != nullptr && token_ != 0) loop_->unwatch(token_);
    token_ = 0;
    loop_ = nullptr;
}

void NonblockingWriter::write_lines(std::string_view source, std::string_view lines) {
    if (lines.empty()) return;  // (a write of nothing would look like a failed destination)
    // What waits goes first, then the report of what was lost; this is also
    // how a failed destination is tried again.
    if (backlog_bytes() > 0 || !dropped_.empty()) flush();
    if (broken_) {
        drop(source, lines);
    } else if (backlog_bytes() > 0) {
        queue(source, lines, false);
    } else {
        const std::size_t n = write_some(lines);
        if (broken_ && n == 0) drop(source, lines);
        else if (n < lines.size()) queue(source, lines.substr(n), n > 0 && lines[n - 1] != '\n');
    }
    update_watch();
}

void NonblockingWriter::drop(std::string_view source, std::string_view lines) {
    std::uint64_t count = static_cast<std::uint64_t>(std::count(lines.begin(), lines.end(), '\n'));
    if (!lines.empty() && lines.back() != '\n') ++count;
    count_dropped(source, count);
}

// Keeps whole lines while they fit in the bound, drops and counts the rest.
// `cut_line`: the data starts with the rest of a line already partly
// written, which is kept whatever the bound (a half line would be worse).
void NonblockingWriter::queue(std::string_view source, std::string_view lines, bool cut_line) {
    std::uint64_t dropped = 0;
    for (std::size_t pos = 0; pos < lines.size();) {
        const std::size_t nl = lines.find('\n', pos);
        const std::size_t end = nl == std::string_view::npos ? lines.size() : nl + 1;
        const std::string_view line = lines.substr(pos, end - pos);
        if ((pos == 0 && cut_line) || backlog_bytes() + line.size() <= bound_) backlog_.append(line);
        else ++dropped;
        pos = end;
    }
    count_dropped(source, dropped);
}

void NonblockingWriter::count_dropped(std::string_view source, std::uint64_t dropped) {
    if (dropped == 0) return;
    dropped_total_ += dropped;
    const auto it = std::find_if(dropped_.begin(), dropped_.end(), [&](const auto& d) { return d.first == source; });
    if (it != dropped_.end()) it->second += dropped;
    else dropped_.emplace_back(std::string(source), dropped);
}

void NonblockingWriter::flush() {
    for (;;) {
        while (backlog_bytes() > 0) {
            const std::size_t n = write_some(std::string_view(backlog_).substr(backlog_start_));
            if (n == 0) break;
            backlog_start_ += n;
        }
        if (backlog_bytes() > 0) break;
        backlog_.clear();
        backlog_start_ = 0;
        if (dropped_.empty()) break;
        // The report goes out when the destination takes it; a destination
        // still failing keeps the counts (one report later, not pieces).
        const std::string report = drop_report();
        const std::size_t n = write_some(report);
        if (n == 0 && broken_) break;
        dropped_.clear();
        backlog_.append(report, n);  // what it did not take now, if anything
    }
    if (backlog_start_ > 0 && backlog_start_ >= backlog_.size() / 2) {
        backlog_.erase(0, backlog_start_);
        backlog_start_ = 0;
    }
    update_watch();
}

std::string NonblockingWriter::drop_report() const {
    std::string report;
    for (const auto& [source, count] : dropped_)
        report += "foster: dropped " + std::to_string(count) + (count == 1 ? " line" : " lines") + " of " +
                  source + " output\n";
    return report;
}

std::size_t NonblockingWriter::write_some(std::string_view data) {
    if (data.empty()) return 0;
    for (;;) {
        ssize_t n = -1;
        switch (method_) {
            case Method::direct: n = ::write(fd_, data.data(), data.size()); break;
            case Method::private_description: n = ::write(private_fd_.get(), data.data(), data.size()); break;
            case Method::socket: n = ::send(fd_, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL); break;
            case Method::poll_first: {
                // POLLOUT on a pipe means room for at least PIPE_BUF bytes,
                // which a pipe takes in one piece. (Another writer could fill
                // it between the two calls: the one window left, without /proc.)
                pollfd p{fd_, POLLOUT, 0};
                if (::poll(&p, 1, 0) != 1) return 0;
                n = ::write(fd_, data.data(), std::min<std::size_t>(data.size(), PIPE_BUF));
                break;
            }
        }
        if (n < 0 && errno == EINTR) continue;
        // EPIPE, EBADF, ENOSPC, EIO, ... (or a write of nothing): the
        // destination failed; the output is lost, foster is not.
        broken_ = !(n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)));
        return n > 0 ? static_cast<std::size_t>(n) : 0;
    }
}

void NonblockingWriter::update_watch() {
    if (loop_ == nullptr) return;
    // A failed destination is not watched: tried again at the next line.
    const bool waiting = backlog_bytes() > 0 && !broken_;
    if (waiting && token_ == 0) {
        token_ = loop_->watch(wait_fd(), EPOLLOUT, [this](std::uint32_t) { flush(); });
    } else if (!waiting && token_ != 0) {
        loop_->unwatch(std::exchange(token_, 0));
    }
}

void NonblockingWriter::finish(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    flush();
    while (backlog_bytes() > 0 && !broken_) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{wait_fd(), POLLOUT, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
        flush();
    }
}

}  // namespace foster
