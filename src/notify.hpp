// notify.hpp — the sd_notify protocol, foster's side: the socket that
// `type = "notify"` services send READY=1 to.
//
// One datagram socket serves every service. It lives in the abstract
// namespace (a unique name the kernel picks, like "@0004f"), so services running as another user can
// reach it without a file whose permissions would need managing, and nothing
// is left on disk when foster dies. Anyone may send to it; a message counts
// only when the kernel-attested sender pid (SCM_CREDENTIALS, as systemd
// does) belongs to a service: its main process, or a process in its session.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

#include "fd.hpp"

namespace foster {

struct NotifyMessage {
    pid_t sender = 0;
    bool ready = false;
    bool stopping = false;
    std::optional<std::string> status;  // STATUS=...
};

// Parses one datagram: newline-separated VAR=VALUE assignments, the last
// assignment of a variable winning; unknown ones and lines without '=' are
// ignored. A datagram with a NUL byte in it is ignored whole (as systemd does).
NotifyMessage parse_notify_message(std::string_view text, pid_t sender);

class NotifySocket {
public:
    // Binds the socket; returns an invalid socket (and logs) on failure.
    static NotifySocket open();

    [[nodiscard]] bool valid() const { return fd_.valid(); }
    [[nodiscard]] int fd() const { return fd_.get(); }
    // The value services get in NOTIFY_SOCKET.
    [[nodiscard]] const std::string& address() const { return address_; }

    // Reads every queued datagram; messages without credentials are dropped.
    void drain(const std::function<void(const NotifyMessage&)>& deliver);

private:
    Fd fd_;
    std::string address_;
};

}  // namespace foster
