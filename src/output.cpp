#include "output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace foster {

namespace {

// A line longer than this is cut into pieces of this size, so one service
// printing without newlines cannot make foster's buffer grow without bound.
constexpr std::size_t max_line = 16 * 1024;

}  // namespace

std::string prefixed_line(std::string_view prefix, std::string_view line) {
    std::string out;
    out.reserve(prefix.size() + line.size() + 1);
    out += prefix;
    out += line;
    out += '\n';
    return out;
}

PrefixPipe::PrefixPipe(std::string name, NonblockingWriter& destination)
    : name_(std::move(name)), prefix_(name_ + " | "), destination_(destination) {
    int ends[2];
    if (pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) return;
    read_end_.reset(ends[0]);
    write_end_.reset(ends[1]);
    // The service's end must block like any ordinary stdout: O_NONBLOCK is a
    // property of the open file description, so clear it on the write end.
    fcntl(write_end_.get(), F_SETFL, 0);
}

void PrefixPipe::take_line(std::string& out, std::string_view line, std::int64_t now_ms) {
    out += prefixed_line(prefix_, line);
    if (buffer_ != nullptr) buffer_->append(name_, stream_, line, now_ms);
}

void PrefixPipe::emit(std::string_view line) {
    std::string out;
    take_line(out, line, realtime_now_ms());
    destination_.write_lines(name_, out);
}

void PrefixPipe::drain() {
    char buf[16 * 1024];
    for (;;) {
        const ssize_t n = ::read(read_end_.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // EAGAIN: drained
        pending_.append(buf, static_cast<std::size_t>(n));
        const std::int64_t now_ms = realtime_now_ms();
        // Every complete line of this read goes out in one write: foster is
        // the only writer, so lines stay whole and the syscalls stay few.
        std::string out;
        std::size_t start = 0;
        for (std::size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1)
            take_line(out, std::string_view(pending_).substr(start, nl - start), now_ms);
        pending_.erase(0, start);
        while (pending_.size() >= max_line) {
            take_line(out, std::string_view(pending_).substr(0, max_line), now_ms);
            pending_.erase(0, max_line);
        }
        destination_.write_lines(name_, out);
    }
}

void PrefixPipe::flush_partial() {
    drain();
    if (pending_.empty()) return;
    emit(pending_);
    pending_.clear();
}

}  // namespace foster
