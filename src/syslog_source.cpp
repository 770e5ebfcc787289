#include "syslog_source.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "log.hpp"
#include "log_buffer.hpp"

namespace foster {

namespace {

// At most this many datagrams per wake-up, so that a flood of syslog
// messages cannot keep the loop from everything else.
constexpr int max_per_wakeup = 64;
// A longer message is cut here (glibc's syslog sends up to about 1 KiB;
// logger up to what its --size says).
constexpr std::size_t max_datagram = 16 * 1024;

}  // namespace

bool serve_syslog_by_default(pid_t own_pid, const std::string& path) {
    struct stat st {};
    return own_pid == 1 && lstat(path.c_str(), &st) != 0 && errno == ENOENT;
}

std::unique_ptr<SyslogSource> SyslogSource::open(const std::string& path, EventLoop& loop, Deliver deliver,
                                                 std::string& error) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path) {
        error = "syslog socket path '" + path + "' is empty or too long";
        return nullptr;
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            error = "cannot serve " + path + ": it exists and is not a socket";
            return nullptr;
        }
        // A datagram connect succeeds only if a socket is bound there.
        Fd probe{socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
        if (probe && connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
            error = "cannot serve " + path + ": another syslog daemon is listening there";
            return nullptr;
        }
        unlink(path.c_str());  // stale: left by a foster (or a daemon) that died
    }
    Fd sock{socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
    if (!sock) {
        error = "cannot create the syslog socket: " + log::errno_text(errno);
        return nullptr;
    }
    // 0666 from the moment the file exists: any user's daemon may log.
    const mode_t old_umask = umask(0111);
    const int bound = bind(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    const int bind_errno = errno;
    umask(old_umask);
    if (bound != 0) {
        error = "cannot bind " + path + ": " + log::errno_text(bind_errno);
        return nullptr;
    }
    auto source = std::unique_ptr<SyslogSource>(new SyslogSource(path, std::move(sock), loop, std::move(deliver)));
    if (lstat(path.c_str(), &st) == 0) {
        source->device_ = st.st_dev;
        source->inode_ = st.st_ino;
    }
    return source;
}

SyslogSource::SyslogSource(std::string path, Fd socket, EventLoop& loop, Deliver deliver)
    : path_(std::move(path)), socket_(std::move(socket)), loop_(loop), deliver_(std::move(deliver)) {
    token_ = loop_.watch(socket_.get(), EPOLLIN, [this](std::uint32_t) { drain(); });
}

SyslogSource::~SyslogSource() {
    loop_.unwatch(std::exchange(token_, 0));
    struct stat st {};
    if (inode_ != 0 && lstat(path_.c_str(), &st) == 0 && st.st_dev == device_ && st.st_ino == inode_)
        unlink(path_.c_str());
}

void SyslogSource::drain() {
    static char buffer[max_datagram];
    for (int i = 0; i < max_per_wakeup; ++i) {
        const ssize_t n = recv(socket_.get(), buffer, sizeof buffer, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return;  // EAGAIN: drained
        deliver_(parse_syslog(std::string_view(buffer, static_cast<std::size_t>(n))), realtime_now_ms());
    }
}

}  // namespace foster
