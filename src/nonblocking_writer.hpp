// nonblocking_writer.hpp — writing lines to a descriptor foster shares
// (its own stdout or stderr) without ever blocking the event loop.
//
// A paused terminal, a full pipe nobody reads or a slow log driver must not
// stall reaping, timers, signals and the control socket. O_NONBLOCK cannot
// simply be set on fd 1/2: it belongs to the open file description, which
// PROGRAM and every `inherit` service share, and they would start seeing
// EAGAIN. So the writer finds a way that touches only foster:
//
//   socket              send(MSG_DONTWAIT | MSG_NOSIGNAL): non-blocking per call
//   pipe, FIFO, tty     a private description: /proc/self/fd/N reopened with
//                       O_NONBLOCK (same pipe or terminal, our own flags)
//   regular file        written directly: a file never waits for a reader
//   none of these work  poll(POLLOUT, 0) first, then at most PIPE_BUF bytes
//   (no /proc)          (a pipe with room takes that much at once)
//
// What cannot be written now waits in a backlog, written when the
// destination becomes writable again (the writer watches it on the event
// loop). The backlog is bounded (1 MiB by default): lines that do not fit are
// dropped whole and counted per source, and once the backlog has drained the
// writer adds one line per source, "foster: dropped N lines of NAME output".
// A line never goes out in part, except the one a short write cut: its rest
// is kept whatever the bound.
//
// A destination that fails (EPIPE: its reader is gone; EBADF: closed; ENOSPC:
// a full disk; EIO, ...) never stops foster either: while it fails, new lines
// are dropped at once and counted per source (no backlog grows for a reader
// that may never come back), what waited already stays, and the writer does
// not watch it on the loop (a broken pipe is always "ready", that would
// spin). Every later line tries again, so once the destination takes lines
// again the backlog goes out first, then the drop report, then the line.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "event_loop.hpp"
#include "fd.hpp"

namespace foster {

class NonblockingWriter {
public:
    static constexpr std::size_t default_bound = 1024 * 1024;

    // `fd` stays the caller's: neither closed nor changed.
    explicit NonblockingWriter(int fd, std::size_t bound = default_bound);
    ~NonblockingWriter();
    NonblockingWriter(const NonblockingWriter&) = delete;
    NonblockingWriter& operator=(const NonblockingWriter&) = delete;

    // While there is a backlog, wait on `loop` for the destination to take
    // more. Without a loop the backlog is retried at the next write.
    void attach(EventLoop& loop);
    // Stops using the loop (before it goes away); the backlog then waits
    // for the next write or finish().
    void detach();

    // Complete lines, each ending in '\n', from `source` (the name the drop
    // report gives). Never blocks.
    void write_lines(std::string_view source, std::string_view lines);

    // At exit: waits (in poll, at most `limit`) for the backlog to go out.
    void finish(std::chrono::milliseconds limit);

    [[nodiscard]] std::size_t backlog_bytes() const { return backlog_.size() - backlog_start_; }
    [[nodiscard]] std::uint64_t dropped_lines() const { return dropped_total_; }
    // The last write failed with an error other than EAGAIN.
    [[nodiscard]] bool broken() const { return broken_; }

    enum class Method { direct, private_description, socket, poll_first };
    [[nodiscard]] Method method() const { return method_; }

private:
    // Bytes taken: 0 when it would block, or when the destination failed
    // (then broken_ is set; any success clears it).
    std::size_t write_some(std::string_view data);
    void queue(std::string_view source, std::string_view lines, bool cut_line);
    void drop(std::string_view source, std::string_view lines);
    void count_dropped(std::string_view source, std::uint64_t count);
    void flush();
    [[nodiscard]] std::string drop_report() const;
    void update_watch();
    [[nodiscard]] int wait_fd() const { return private_fd_ ? private_fd_.get() : fd_; }

    int fd_;
    Fd private_fd_;
    Method method_ = Method::direct;
    std::size_t bound_;
    std::string backlog_;
    std::size_t backlog_start_ = 0;
    std::vector<std::pair<std::string, std::uint64_t>> dropped_;  // per source, in order of first drop
    std::uint64_t dropped_total_ = 0;
    bool broken_ = false;
    EventLoop* loop_ = nullptr;
    EventLoop::Token token_ = 0;
};

// Attaches a writer to a loop for as long as it lives (declare it after the
// loop, so it detaches first): a writer that outlives its loop, like the one
// foster's own log shares, must never touch the loop once it is gone.
class WriterAttachment {
public:
    WriterAttachment(NonblockingWriter& writer, EventLoop& loop) : writer_(writer) { writer_.attach(loop); }
    ~WriterAttachment() { writer_.detach(); }
    WriterAttachment(const WriterAttachment&) = delete;
    WriterAttachment& operator=(const WriterAttachment&) = delete;

private:
    NonblockingWriter& writer_;
};

}  // namespace foster
