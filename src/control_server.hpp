// control_server.hpp — the control socket, served by foster's event loop.
//
// A unix stream socket, mode 0600 from birth (umask around bind, no window
// with wider permissions). Each connection carries one request line and gets
// one answer; every connection is non-blocking, bounded in what it may send
// (control::max_request_bytes) and in how long it may take (at the cap of
// open connections, the oldest one still sending its request gives way to a
// newcomer), and checked by
// its peer credentials: only root and foster's own uid may act. A slow,
// silent, oversized or malformed client is answered with an error or dropped;
// it never blocks the loop and never costs foster more than its small buffer.
#pragma once

#include <sys/types.h>

#include <list>
#include <memory>
#include <optional>
#include <string>

#include "control_protocol.hpp"
#include "event_loop.hpp"
#include "fd.hpp"
#include "log_buffer.hpp"

namespace foster {

// What the server needs from the supervisor.
class ControlHandler {
public:
    // Carries out a request; for a request with a wait, the answer to give
    // when the wait cannot even begin (an unknown name, say), or ok.
    virtual control::Response handle_request(const control::Request& request) = 0;
    // For a waiting request: the final answer once every named service
    // reached its goal (or never can), nothing while it should keep waiting.
    virtual std::optional<control::Response> wait_result(const control::Request& request) = 0;
    // For a waiting request whose time ran out.
    virtual control::Response wait_timed_out(const control::Request& request) = 0;

protected:
    ~ControlHandler() = default;
};

// Why the control socket could not be opened: a message that names the path,
// and whether it is because another foster is live on it (which foster
// refuses to run beside) rather than a failure it can run without.
struct ControlOpenFailure {
    std::string message;
    bool another_foster_listens = false;
};

class ControlServer {
public:
    // Binds `path`. A socket file no foster answers on is replaced; one a
    // live foster answers on is refused. On failure returns nothing and
    // fills `failure`.
    static std::unique_ptr<ControlServer> open(const std::string& path, EventLoop& loop, ControlHandler& handler,
                                               ControlOpenFailure& failure);

    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;
    // Closes every connection and removes the socket file.
    ~ControlServer();

    // After every batch of events: answer waiting requests that are done.
    void settle_waiters();

    // Answers `logs` requests from `buffer` and pushes its new lines to
    // `logs --follow` clients (control_logs.cpp). Without it, `logs` is
    // answered with an error.
    void serve_logs(LogBuffer& buffer);

    [[nodiscard]] const std::string& path() const { return path_; }

private:
    ControlServer(std::string path, Fd listener, EventLoop& loop, ControlHandler& handler);

    struct Connection {
        Fd fd;
        EventLoop::Token token = 0;
        std::string input;
        std::string output;
        std::size_t written = 0;
        std::optional<control::Request> waiting;  // a request answered later
        TimerQueue::Id deadline = 0;              // drop (or time out a wait) then
        bool answered = false;
        bool refused = false;  // the peer is neither root nor foster's user
        // logs --follow: lines are appended to `output` as they arrive.
        bool follower = false;
        std::vector<std::string> follow_names;
        std::size_t sent_total = 0;    // bytes sent since the answer began
        std::size_t backlog_end = 0;   // the first answer (old lines) ends here
        bool awaiting_room = false;    // watched for EPOLLOUT, not for the client leaving
    };
    using ConnectionIt = std::list<Connection>::iterator;

    void on_accept();
    void watch_listener();
    void pause_accepting(int error);
    void on_readable(ConnectionIt c);
    void on_request(ConnectionIt c, std::string_view line);
    void answer(ConnectionIt c, const control::Response& response);
    void flush(ConnectionIt c);
    void drop(ConnectionIt c);
    void drop_quietly(ConnectionIt c);  // without taking the next client
    // The connection that gives way to a newcomer at the cap: the oldest one
    // still sending its request (end() when none may give way).
    ConnectionIt oldest_unfinished();
    bool peer_allowed(int fd) const;
    // control_logs.cpp
    void on_logs_request(ConnectionIt c, const control::Request& request);
    void on_log_line(const LogLine& line);
    void cut_off(ConnectionIt c, const std::string& why);
    void watch_readable(ConnectionIt c);

    std::string path_;
    Fd listener_;
    EventLoop& loop_;
    ControlHandler& handler_;
    EventLoop::Token listen_token_ = 0;
    TimerQueue::Id resume_timer_ = 0;  // accepting again after running out of descriptors
    bool accept_failure_logged_ = false;
    std::list<Connection> connections_;
    uid_t own_uid_;
    LogBuffer* logs_ = nullptr;
    std::size_t followers_ = 0;
};

}  // namespace foster
