// control_logs.cpp — `logs` requests, and `logs --follow` clients, served
// from the LogBuffer (control_server.hpp, docs/PROTOCOL.md).
//
// A follower is a connection that stays open: its old lines are the first
// answer, every new line that it asked for is appended to its output as it
// arrives and sent at once. foster never waits for it: when it reads too
// slowly (more than max_follow_pending bytes unsent beyond its first answer),
// it gets a last "cut" line and is dropped.
#include <sys/epoll.h>

#include <chrono>
#include <utility>

#include "control_server.hpp"
#include "log.hpp"
#include "log_protocol.hpp"

namespace foster {

namespace {

// Unsent bytes a follower may have queued beyond its first answer.
constexpr std::size_t max_follow_pending = 1024 * 1024;
// Followers at once: the other connection slots stay for other requests.
constexpr std::size_t max_followers = 32;
// How long a cut-off follower gets to read its last line.
constexpr Millis cut_deadline{1'000};

}  // namespace

void ControlServer::serve_logs(LogBuffer& buffer) {
    logs_ = &buffer;
    logs_->set_listener([this](const LogLine& line) { on_log_line(line); });
}

void ControlServer::on_logs_request(ConnectionIt c, const control::Request& request) {
    if (logs_ == nullptr) {
        answer(c, control::Response{false, "this foster keeps no output in memory", {}, {}});
        return;
    }
    if (request.follow && followers_ >= max_followers) {
        answer(c, control::Response{false, "too many logs --follow clients (at most " + std::to_string(max_followers) + ")", {}, {}});
        return;
    }
    LogQuery query{request.names, request.last, std::nullopt};
    if (request.since) query.since_ms = realtime_now_ms() - request.since->count();
    const LogBuffer::Selection selection = logs_->select(query);
    if (!selection.error.empty()) {
        answer(c, control::Response{false, selection.error, {}, {}});
        return;
    }
    c->answered = true;
    c->input.clear();
    c->input.shrink_to_fit();
    c->output = "ok\n";
    for (const LogLine* line : selection.lines) c->output += control::format_log_line(*line);
    loop_.timers().cancel(std::exchange(c->deadline, 0));
    if (request.follow) {
        c->follower = true;
        c->follow_names = request.names;
        c->backlog_end = c->output.size();
        ++followers_;
    } else {
        c->deadline = loop_.timers().schedule(Clock::now() + std::chrono::seconds(10), [this, c] {
            c->deadline = 0;
            drop(c);
        });
    }
    flush(c);
}

void ControlServer::on_log_line(const LogLine& line) {
    std::string formatted;
    for (auto c = connections_.begin(); c != connections_.end();) {
        const auto next = std::next(c);
        if (c->follower && c->deadline == 0 && LogBuffer::wanted(line, c->follow_names)) {
            if (formatted.empty()) formatted = control::format_log_line(line);
            const bool blocked = c->awaiting_room;  // flush() runs when the client takes more
            c->output += formatted;
            const std::size_t pending = c->output.size() - c->written;
            const std::size_t backlog_left = c->backlog_end > c->sent_total ? c->backlog_end - c->sent_total : 0;
            if (pending > backlog_left + max_follow_pending)
                cut_off(c, "foster cut this follower off: it read too slowly (" +
                               std::to_string(max_follow_pending / 1024) + " KiB unread)");
            else if (!blocked)
                flush(c);
        }
        c = next;
    }
}

// The follower gets one last line saying why, a moment to read it, and is
// dropped; foster's own log says so too.
void ControlServer::cut_off(ConnectionIt c, const std::string& why) {
    log::error("control: a logs --follow client read too slowly; cut off");
    c->output += control::format_cut(why);
    c->follower = false;  // no more lines; dropped once the cut line is out
    --followers_;
    c->deadline = loop_.timers().schedule(Clock::now() + cut_deadline, [this, c] {
        c->deadline = 0;
        drop(c);
    });
    // Still blocked, most likely: flush() finishes when the client reads.
    if (c->token != 0) loop_.unwatch(c->token);
    c->token = loop_.watch(c->fd.get(), EPOLLOUT, [this, c](std::uint32_t) { flush(c); });
}

}  // namespace foster
