#include "control_server.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "duration.hpp"
#include "log.hpp"

namespace foster {

namespace {

// Bounds that keep one client from costing foster more than a little.
constexpr std::size_t max_connections = 64;
// How long accepting pauses when foster is out of descriptors or memory: the
// waiting client stays in the backlog, and the level-triggered listener must
// not wake the loop again at once (that would spin a core).
constexpr Millis accept_pause{100};
constexpr Millis request_deadline{5'000};   // to send a whole request line
constexpr Millis answer_deadline{10'000};   // to read the whole answer

std::optional<sockaddr_un> address_of(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path) return std::nullopt;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}

// True if a live process accepts connections on `addr`.
bool someone_listens(const sockaddr_un& addr) {
    Fd probe{socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    if (!probe) return false;
    return connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
}

}  // namespace

std::unique_ptr<ControlServer> ControlServer::open(const std::string& path, EventLoop& loop, ControlHandler& handler,
                                                   ControlOpenFailure& failure) {
    const auto addr = address_of(path);
    if (!addr) {
        failure.message = "control socket path '" + path + "' is empty or too long";
        return nullptr;
    }
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            failure.message = "cannot create the control socket: " + path + " exists and is not a socket";
            return nullptr;
        }
        if (someone_listens(*addr)) {
            failure.message = "another foster is already listening on " + path;
            failure.another_foster_listens = true;
            return nullptr;
        }
        unlink(path.c_str());  // stale: left by a foster that died
    }
    Fd listener{socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
    if (!listener) {
        failure.message = "cannot create the control socket: " + log::errno_text(errno);
        return nullptr;
    }
    // 0600 from the moment the file exists: umask around bind, no chmod after.
    const mode_t old_umask = umask(0177);
    const int bound = bind(listener.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr);
    const int bind_errno = errno;
    umask(old_umask);
    if (bound != 0 || listen(listener.get(), SOMAXCONN) != 0) {
        failure.message = "cannot listen on " + path + ": " + log::errno_text(bound != 0 ? bind_errno : errno);
        return nullptr;
    }
    return std::unique_ptr<ControlServer>(new ControlServer(path, std::move(listener), loop, handler));
}

ControlServer::ControlServer(std::string path, Fd listener, EventLoop& loop, ControlHandler& handler)
    : path_(std::move(path)), listener_(std::move(listener)), loop_(loop), handler_(handler), own_uid_(geteuid()) {
    watch_listener();
}

void ControlServer::watch_listener() {
    if (listen_token_ == 0)
        listen_token_ = loop_.watch(listener_.get(), EPOLLIN, [this](std::uint32_t) { on_accept(); });
}

void ControlServer::pause_accepting(int error) {
    if (!accept_failure_logged_)
        log::error("cannot accept a control connection: " + log::errno_text(error) + "; trying again every " +
                   format_duration(accept_pause));
    accept_failure_logged_ = true;
    loop_.unwatch(std::exchange(listen_token_, 0));
    if (resume_timer_ != 0) return;
    resume_timer_ = loop_.timers().schedule(Clock::now() + accept_pause, [this] {
        resume_timer_ = 0;
        watch_listener();
    });
}

ControlServer::~ControlServer() {
    loop_.unwatch(std::exchange(listen_token_, 0));
    loop_.timers().cancel(resume_timer_);
    for (auto& c : connections_) {
        if (c.token != 0) loop_.unwatch(c.token);
        loop_.timers().cancel(c.deadline);
    }
    connections_.clear();
    if (logs_ != nullptr) logs_->set_listener({});
    unlink(path_.c_str());
}

bool ControlServer::peer_allowed(int fd) const {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
    return cred.uid == 0 || cred.uid == own_uid_;
}

void ControlServer::on_accept() {
    for (;;) {
        // At the cap, the newcomer takes the place of the oldest connection
        // still sending its request: idle or slow clients (a thousand of
        // them, say) cannot keep a client that talks at once from being
        // served. Only when every slot holds a request being carried out or
        // answered do further clients wait in the kernel's listen backlog.
        const bool full = connections_.size() >= max_connections;
        if (full && oldest_unfinished() == connections_.end()) {
            loop_.unwatch(std::exchange(listen_token_, 0));
            return;
        }
        Fd fd{accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK)};
        if (!fd) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) pause_accepting(errno);
            return;  // else EAGAIN, or a connection that died before we got to it
        }
        // Only for a newcomer that is really there.
        if (full) drop_quietly(oldest_unfinished());
        if (accept_failure_logged_) log::info("accepting control connections again");
        accept_failure_logged_ = false;
        connections_.push_front(Connection{});
        const ConnectionIt c = connections_.begin();
        c->fd = std::move(fd);
        // A peer that may not act still gets its request read, then the
        // refusal: closing on unread data would reset the connection and
        // lose the answer.
        c->refused = !peer_allowed(c->fd.get());
        c->token = loop_.watch(c->fd.get(), EPOLLIN | EPOLLRDHUP, [this, c](std::uint32_t events) {
            if (events & EPOLLOUT) flush(c);
            else on_readable(c);
        });
        c->deadline = loop_.timers().schedule(Clock::now() + request_deadline, [this, c] {
            c->deadline = 0;
            drop(c);
        });
        // A client usually sends its request with the connect: read it now,
        // before later newcomers of this batch could take its place.
        on_readable(c);
    }
}

ControlServer::ConnectionIt ControlServer::oldest_unfinished() {
    // Newest first in the list: the oldest is found from the back.
    for (auto it = connections_.end(); it != connections_.begin();) {
        --it;
        if (!it->answered && !it->waiting) return it;
    }
    return connections_.end();
}

void ControlServer::on_readable(ConnectionIt c) {
    char buf[1024];
    for (;;) {
        const ssize_t n = ::read(c->fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n <= 0) {
            // A follower keeps its sending side open while it follows
            // (docs/PROTOCOL.md): the end of it is the client going away.
            if (c->follower) {
                drop(c);
                return;
            }
            if (c->waiting && n == 0) {
                // The client shut down its sending side and waits for the
                // answer (the protocol allows it): stop reading, keep waiting.
                loop_.unwatch(std::exchange(c->token, 0));
                return;
            }
            // The client closed (or failed) before a whole request: nothing to answer.
            if (!c->answered) drop(c);
            return;
        }
        if (c->answered || c->waiting) continue;  // one request per connection: the rest is ignored
        c->input.append(buf, static_cast<std::size_t>(n));
        const auto nl = c->input.find('\n');
        if (nl != std::string::npos) {
            on_request(c, std::string_view(c->input).substr(0, nl));
            return;
        }
        if (c->input.size() >= control::max_request_bytes) {
            answer(c, control::Response{false, "request is longer than " + std::to_string(control::max_request_bytes) + " bytes", {}, {}});
            return;
        }
    }
}

void ControlServer::on_request(ConnectionIt c, std::string_view line) {
    if (c->refused) {
        answer(c, control::Response{false, "permission denied: only root and foster's own user may control it", {}, {}});
        return;
    }
    const control::ParsedRequest parsed = control::parse_request(line);
    if (!parsed.request) {
        answer(c, control::Response{false, parsed.error, {}, {}});
        return;
    }
    const control::Request& request = *parsed.request;
    if (request.command == control::Command::logs) {
        on_logs_request(c, request);
        return;
    }
    control::Response immediate = handler_.handle_request(request);
    if (!immediate.ok || !request.wait) {
        answer(c, immediate);
        return;
    }
    c->waiting = request;
    loop_.timers().cancel(c->deadline);
    c->deadline = loop_.timers().schedule(Clock::now() + *request.wait, [this, c] {
        c->deadline = 0;
        const control::Request timed_out = *c->waiting;
        c->waiting.reset();
        answer(c, handler_.wait_timed_out(timed_out));
    });
    // It may be done already (stopping a service that was stopped): judged
    // now, against the state this request left, not after later requests.
    if (auto done = handler_.wait_result(request)) {
        c->waiting.reset();
        answer(c, *done);
    }
}

void ControlServer::settle_waiters() {
    for (auto c = connections_.begin(); c != connections_.end();) {
        const auto next = std::next(c);
        if (c->waiting) {
            if (auto done = handler_.wait_result(*c->waiting)) {
                c->waiting.reset();
                answer(c, *done);
            }
        }
        c = next;
    }
}

void ControlServer::answer(ConnectionIt c, const control::Response& response) {
    c->answered = true;
    c->input.clear();
    c->input.shrink_to_fit();
    c->output = control::format_response(response);
    loop_.timers().cancel(c->deadline);
    c->deadline = loop_.timers().schedule(Clock::now() + answer_deadline, [this, c] {
        c->deadline = 0;
        drop(c);
    });
    flush(c);
}

void ControlServer::flush(ConnectionIt c) {
    while (c->written < c->output.size()) {
        const ssize_t n = ::send(c->fd.get(), c->output.data() + c->written, c->output.size() - c->written,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            // A slow reader: let epoll say when there is room again.
            if (c->token != 0) loop_.unwatch(c->token);
            c->token = loop_.watch(c->fd.get(), EPOLLOUT, [this, c](std::uint32_t) { flush(c); });
            c->awaiting_room = true;
            return;
        }
        if (n <= 0) {  // the client is gone
            drop(c);
            return;
        }
        c->written += static_cast<std::size_t>(n);
        c->sent_total += static_cast<std::size_t>(n);
    }
    if (!c->follower) {
        drop(c);
        return;
    }
    // A follower stays: everything is sent, wait for more lines (and hear
    // the client leave).
    c->output.clear();
    c->written = 0;
    if (std::exchange(c->awaiting_room, false)) watch_readable(c);
}

void ControlServer::watch_readable(ConnectionIt c) {
    if (c->token != 0) loop_.unwatch(c->token);
    c->token = loop_.watch(c->fd.get(), EPOLLIN | EPOLLRDHUP, [this, c](std::uint32_t events) {
        if (events & EPOLLOUT) flush(c);
        else on_readable(c);
    });
}

void ControlServer::drop(ConnectionIt c) {
    drop_quietly(c);
    watch_listener();  // a slot (or a descriptor) is free again: take the next waiting client
}

void ControlServer::drop_quietly(ConnectionIt c) {
    if (c->follower) --followers_;
    if (c->token != 0) loop_.unwatch(c->token);
    loop_.timers().cancel(c->deadline);
    connections_.erase(c);
}

}  // namespace foster
