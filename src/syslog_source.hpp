// syslog_source.hpp — foster as the container's syslog: /dev/log bound,
// each message turned into a line "TAG | message" (foster.toml(5), `syslog`).
//
// In a container there is usually no syslog daemon, and what cron, postfix or
// sshd hand to syslog(3) is lost. When foster serves /dev/log (a unix
// datagram socket, as the daemons expect), their messages reach foster's
// stdout like a `prefix` service's lines, and the in-memory buffer under the
// tag's name.
//
// The socket file is removed at exit, but only if it is still the one foster
// bound (same device and inode): a file someone put there since is not ours.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "event_loop.hpp"
#include "fd.hpp"
#include "syslog_message.hpp"

namespace foster {

class SyslogSource {
public:
    using Deliver = std::function<void(const SyslogMessage& message, std::int64_t time_ms)>;

    // Binds `path` (mode 0666: every user may log). A socket file nobody
    // answers on is replaced; anything else there is refused. On failure
    // returns nothing and sets `error` to a message that names the path.
    static std::unique_ptr<SyslogSource> open(const std::string& path, EventLoop& loop, Deliver deliver,
                                              std::string& error);
    SyslogSource(const SyslogSource&) = delete;
    SyslogSource& operator=(const SyslogSource&) = delete;
    ~SyslogSource();

    // Delivers what is waiting (the loop calls it; foster once more at exit,
    // so a daemon's last message before the shutdown is not lost).
    void drain();

private:
    SyslogSource(std::string path, Fd socket, EventLoop& loop, Deliver deliver);

    std::string path_;
    Fd socket_;
    EventLoop& loop_;
    Deliver deliver_;
    EventLoop::Token token_ = 0;
    dev_t device_ = 0;
    ino_t inode_ = 0;
};

// `syslog` unset: foster serves /dev/log when it is PID 1 and /dev/log does
// not exist (a container with nobody else to do it).
bool serve_syslog_by_default(pid_t own_pid, const std::string& path);

}  // namespace foster
