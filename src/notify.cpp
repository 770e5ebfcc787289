#include "notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "log.hpp"

namespace foster {

NotifyMessage parse_notify_message(std::string_view text, pid_t sender) {
    NotifyMessage m;
    m.sender = sender;
    // As systemd: a datagram with a NUL in it is not a message at all (a C
    // reader would see a different one than we do).
    if (text.find('\0') != std::string_view::npos) return m;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        if (line == "READY=1") m.ready = true;
        else if (line == "STOPPING=1") m.stopping = true;
        else if (line.rfind("STATUS=", 0) == 0) m.status = std::string(line.substr(7));
    }
    return m;
}

NotifySocket NotifySocket::open() {
    NotifySocket s;
    s.fd_ = Fd{socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
    if (!s.fd_) {
        log::error("cannot create the notify socket: " + log::errno_text(errno));
        return s;
    }
    // Autobind: the kernel picks a unique abstract name. A name made from
    // foster's pid would collide between two fosters that are both PID 1 of
    // their own pid namespace but share a network namespace.
    const sa_family_t family = AF_UNIX;
    const int on = 1;
    if (bind(s.fd_.get(), reinterpret_cast<const sockaddr*>(&family), sizeof family) != 0 ||
        setsockopt(s.fd_.get(), SOL_SOCKET, SO_PASSCRED, &on, sizeof on) != 0) {
        log::error("cannot bind the notify socket: " + log::errno_text(errno));
        s.fd_.reset();
        return s;
    }
    sockaddr_un addr{};
    socklen_t len = sizeof addr;
    if (getsockname(s.fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        len <= offsetof(sockaddr_un, sun_path) + 1) {
        log::error("cannot name the notify socket: " + log::errno_text(errno));
        s.fd_.reset();
        return s;
    }
    // Abstract: sun_path starts with a NUL; the length says where it ends.
    const std::string name(addr.sun_path + 1, len - offsetof(sockaddr_un, sun_path) - 1);
    s.address_ = "@" + name;
    return s;
}

void NotifySocket::drain(const std::function<void(const NotifyMessage&)>& deliver) {
    for (;;) {
        char data[4096];
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(ucred))];
        iovec iov{data, sizeof data - 1};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        const ssize_t n = recvmsg(fd_.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;  // EAGAIN: drained
        }
        // Longer than any real message (systemd's limit too): its end was cut
        // off, so what is left is not what was sent. Its descriptors are
        // still closed below.
        const bool truncated = (msg.msg_flags & MSG_TRUNC) != 0;
        const ucred* cred = nullptr;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
                cred = reinterpret_cast<const ucred*>(CMSG_DATA(c));
            // Descriptors sent along (FDSTORE=1) are not kept: close them.
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                const auto count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (std::size_t i = 0; i < count; ++i) {
                    int fd;
                    std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                    Fd{fd};
                }
            }
        }
        if (cred == nullptr || cred->pid <= 0 || truncated) continue;
        deliver(parse_notify_message(std::string_view(data, static_cast<std::size_t>(n)), cred->pid));
    }
}

}  // namespace foster
