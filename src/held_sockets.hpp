// held_sockets.hpp — listening sockets foster binds, keeps and passes on.
//
// foster outlives every service, so it can own a service's listening
// sockets: bound when the config is loaded, before any service starts, and
// handed to each new process at fd 3, 4, ... with the sd_listen_fds(3)
// variables. Between two processes (restart, crash, backoff, `fosterctl
// stop`) the socket stays bound and connections wait in its backlog instead
// of being refused.
//
// A reload builds a new table next to the one in use: a socket whose address
// and type are unchanged is dup()ed (the same socket, so no gap and the same
// inode), others are bound afresh. Only when every bind succeeded does the
// supervisor swap tables; a refused reload just drops the new one.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config.hpp"
#include "fd.hpp"
#include "inheritance.hpp"
#include "socket_spec.hpp"
#include "spawn.hpp"

namespace foster {

struct HeldSocket {
    SocketSpec spec;
    Fd fd;  // invalid while closed by close_on_stop
};
using ServiceSockets = std::vector<HeldSocket>;          // in file order
using SocketTable = std::map<std::string, ServiceSockets>;  // by service name

// The sockets systemd passed to foster (LISTEN_FDS naming foster), by name.
struct SystemdSockets {
    std::vector<std::pair<std::string, Fd>> sockets;
    std::string why_none;  // set when there are none: what `systemd:NAME` is told
};

// Takes systemd's sockets through sd_listen_fds_with_names (systemd.hpp) when
// the config names any (`listen = "systemd:NAME"`): they leave `inheritance`
// (and LISTEN_* its environment) to become foster's own.
SystemdSockets take_systemd_sockets(const Config& config, Inheritance& inheritance);

enum class BindMode {
    hold,   // bind and keep (start, reload)
    check,  // --check: bind and close at once; an existing unix socket file is left alone
};

struct BindResult {
    SocketTable table;
    std::vector<ConfigError> errors;  // FILE:LINE:COLUMN of each failed `listen`
};

// Binds every socket of `config`; those of `current` with the same address
// and type are reused. `file` names the config in errors.
BindResult bind_sockets(const Config& config, const std::string& file, const SocketTable& current,
                        const SystemdSockets& systemd, BindMode mode);

// Binds one socket again (close_on_stop, at the next start). Empty on
// success, else why.
std::string rebind(HeldSocket& socket, const SystemdSockets& systemd);

// The sockets at fd 3, 4, ... and LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID (the
// child's own pid, written in the child) in the environment. A request with
// no sockets is left as is: such a service sees none of LISTEN_*.
void pass_sockets(const ServiceSockets& sockets, SpawnRequest& request);

// Unlinks the unix socket files of `old` that are not in `in_use` (the
// paths of the sockets foster still holds).
void unlink_unused_paths(const ServiceSockets& old, const std::set<std::string>& in_use);

}  // namespace foster
