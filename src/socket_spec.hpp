// socket_spec.hpp — a `[services.NAME.sockets]` entry, as written and checked.
//
// Pure: parsing an address binds nothing. The binding, keeping and passing
// of the sockets is held_sockets.hpp; here is only what the config says, so
// config.cpp can check it (with the value's line and column) and reload can
// compare it.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace foster {

// What `listen` says, resolved to a sockaddr (or a name systemd passed).
struct ListenAddress {
    enum class Family {
        ipv4,        // "HOST:PORT", HOST a dotted quad
        ipv6,        // "[V6]:PORT"; IPV6_V6ONLY is set, so "[::]" means IPv6 only
        unix_path,   // "/absolute/path"
        unix_abstract,  // "@name": the abstract namespace (no file)
        systemd,     // "systemd:NAME": a socket foster was given by systemd
    };
    Family family = Family::ipv4;
    sockaddr_storage address{};
    socklen_t length = 0;
    std::string path;          // unix_path; the name for unix_abstract and systemd
};

// "HOST:PORT", "[V6]:PORT", "/path", "@name" or "systemd:NAME"; host names
// are not looked up (a name would make the bound address depend on DNS at
// the moment foster starts). On failure, why, as "… (expected …)".
std::variant<ListenAddress, std::string> parse_listen_address(std::string_view text);

enum class SocketType { stream, datagram, seqpacket };

// One socket of a service, with every default filled in.
struct SocketSpec {
    std::string name;       // the key: passed in LISTEN_FDNAMES
    std::string listen;     // as written
    ListenAddress address;  // parsed from `listen`
    SocketType type = SocketType::stream;
    int backlog = SOMAXCONN;
    bool reuse_port = false;
    // Unix paths only: the file's mode and owner. Owner default: the
    // service's user and group (when it has them), else foster's.
    std::optional<mode_t> mode;
    std::optional<uid_t> owner_uid;
    std::optional<gid_t> owner_gid;
    bool close_on_stop = false;  // closed when the service is stopped, bound again at its start
    int line = 0, column = 0;    // where `listen` is written: bind errors point here

    // Two specs with the same address and type name the same socket: reload
    // keeps it (and applies backlog, reuse_port, mode and owner to it).
    [[nodiscard]] bool same_socket(const SocketSpec& other) const {
        return listen == other.listen && type == other.type;
    }
    // Reload compares services with this; where it is written does not count.
    bool operator==(const SocketSpec& o) const {
        return name == o.name && listen == o.listen && type == o.type && backlog == o.backlog &&
               reuse_port == o.reuse_port && mode == o.mode && owner_uid == o.owner_uid &&
               owner_gid == o.owner_gid && close_on_stop == o.close_on_stop;
    }
};

// LISTEN_FDNAMES entries are joined by ':' and read by sd_listen_fds_with_names,
// which takes at most 255 characters, no ':' and nothing unprintable.
bool valid_socket_name(std::string_view name);

}  // namespace foster
