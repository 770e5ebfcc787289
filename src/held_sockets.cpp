// held_sockets.cpp — see held_sockets.hpp.
#include "held_sockets.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <tuple>

#include "instances.hpp"
#include "log.hpp"
#include "systemd.hpp"

namespace foster {

namespace {

int socket_type(SocketType type) {
    switch (type) {
        case SocketType::stream: return SOCK_STREAM;
        case SocketType::datagram: return SOCK_DGRAM;
        case SocketType::seqpacket: return SOCK_SEQPACKET;
    }
    return SOCK_STREAM;
}

bool listens(SocketType type) { return type != SocketType::datagram; }

int family_of(const ListenAddress& a) {
    switch (a.family) {
        case ListenAddress::Family::ipv4: return AF_INET;
        case ListenAddress::Family::ipv6: return AF_INET6;
        default: return AF_UNIX;
    }
}

bool set_flag(int fd, int level, int option, bool on) {
    const int value = on ? 1 : 0;
    return setsockopt(fd, level, option, &value, sizeof value) == 0;
}

// What can change on a bound socket without binding it again.
std::string apply_options(const HeldSocket& s) {
    const SocketSpec& spec = s.spec;
    if (spec.address.family == ListenAddress::Family::unix_path) {
        const char* path = spec.address.path.c_str();
        if (spec.mode && chmod(path, *spec.mode) != 0) return "cannot change the mode of " + spec.address.path;
        if ((spec.owner_uid || spec.owner_gid) &&
            chown(path, spec.owner_uid.value_or(static_cast<uid_t>(-1)), spec.owner_gid.value_or(static_cast<gid_t>(-1))) != 0)
            return "cannot change the owner of " + spec.address.path;
    }
    // A second listen() on a listening socket only changes its backlog.
    if (listens(spec.type) && spec.address.family != ListenAddress::Family::systemd &&
        ::listen(s.fd.get(), spec.backlog) != 0)
        return "cannot listen";
    return {};
}

// A stale socket file (a foster that is gone) is replaced, as systemd does;
// anything else at the path is not ours to remove.
std::string clear_path(const std::string& path, BindMode mode, bool& leave_alone) {
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) return errno == ENOENT ? std::string() : "cannot look at " + path;
    if (!S_ISSOCK(st.st_mode)) {
        errno = 0;
        return path + " exists and is not a socket";
    }
    // --check must not take the file of a foster that runs this config now.
    if (mode == BindMode::check) leave_alone = true;
    else if (unlink(path.c_str()) != 0) return "cannot remove the old socket " + path;
    return {};
}

std::string bind_fresh(HeldSocket& s, BindMode mode) {
    const SocketSpec& spec = s.spec;
    const ListenAddress& a = spec.address;
    bool leave_alone = false;
    if (a.family == ListenAddress::Family::unix_path) {
        if (auto why = clear_path(a.path, mode, leave_alone); !why.empty()) return why;
        if (leave_alone) return {};
    }
    s.fd = Fd{::socket(family_of(a), socket_type(spec.type) | SOCK_CLOEXEC, 0)};
    if (!s.fd) return "cannot create the socket";
    const int fd = s.fd.get();
    // A port left in TIME_WAIT by the previous foster must not stop this one.
    if (a.family != ListenAddress::Family::unix_path && a.family != ListenAddress::Family::unix_abstract &&
        !set_flag(fd, SOL_SOCKET, SO_REUSEADDR, true))
        return "cannot set SO_REUSEADDR";
    // "[::]:80" means IPv6 only, whatever net.ipv6.bindv6only says; an IPv4
    // socket of its own says IPv4.
    if (a.family == ListenAddress::Family::ipv6 && !set_flag(fd, IPPROTO_IPV6, IPV6_V6ONLY, true))
        return "cannot set IPV6_V6ONLY";
    if (spec.reuse_port && !set_flag(fd, SOL_SOCKET, SO_REUSEPORT, true)) return "cannot set SO_REUSEPORT";
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&a.address), a.length) != 0) return "cannot bind";
    if (mode == BindMode::check) {
        if (a.family == ListenAddress::Family::unix_path) unlink(a.path.c_str());
        s.fd.reset();
        return {};
    }
    return apply_options(s);
}

std::string names_of(const SystemdSockets& systemd) {
    std::string out;
    for (const auto& [name, fd] : systemd.sockets) out += (out.empty() ? "" : ", ") + name;
    return out;
}

std::string take_from_systemd(HeldSocket& s, const SystemdSockets& systemd) {
    const std::string& name = s.spec.address.path;
    if (systemd.sockets.empty()) {
        errno = 0;
        return "systemd passed no sockets to foster: " + systemd.why_none;
    }
    for (const auto& [passed, fd] : systemd.sockets) {
        if (passed != name) continue;
        // Our own descriptor of systemd's socket, so reload and close_on_stop
        // treat it like any other.
        s.fd = Fd{fcntl(fd.get(), F_DUPFD_CLOEXEC, 3)};
        return s.fd ? std::string() : "cannot duplicate systemd's socket";
    }
    errno = 0;
    return "systemd passed no socket named '" + name + "' (it passed: " + names_of(systemd) + ")";
}

// Empty on success, else why (errno set for the reason's second half, or 0).
std::string bind_one(HeldSocket& s, const SocketTable& current, const std::string& service,
                     const SystemdSockets& systemd, BindMode mode) {
    if (s.spec.address.family == ListenAddress::Family::systemd) return take_from_systemd(s, systemd);
    if (const auto it = current.find(service); it != current.end() && mode == BindMode::hold) {
        for (const auto& old : it->second) {
            if (!old.fd || !old.spec.same_socket(s.spec)) continue;
            s.fd = Fd{fcntl(old.fd.get(), F_DUPFD_CLOEXEC, 3)};
            if (!s.fd) return "cannot duplicate the socket";
            if (old.spec.reuse_port != s.spec.reuse_port) set_flag(s.fd.get(), SOL_SOCKET, SO_REUSEPORT, s.spec.reuse_port);
            return apply_options(s);
        }
    }
    return bind_fresh(s, mode);
}

}  // namespace

SystemdSockets take_systemd_sockets(const Config& config, Inheritance& inheritance) {
    SystemdSockets out;
    const bool wanted = std::any_of(config.services.begin(), config.services.end(), [](const ServiceConfig& c) {
        return std::any_of(c.sockets.begin(), c.sockets.end(), [](const SocketSpec& s) {
            return s.address.family == ListenAddress::Family::systemd;
        });
    });
    if (!wanted) return out;
    if (!systemd::available()) {
        out.why_none = "foster cannot take sockets from systemd: " + systemd::unavailable_reason();
        return out;
    }
    std::vector<std::string> names;
    const int n = systemd::listen_fds_with_names(names);
    if (n < 0) {
        out.why_none = "sd_listen_fds_with_names: " + log::errno_text(-n);
        return out;
    }
    if (n == 0) {
        out.why_none = "no LISTEN_FDS and LISTEN_PID naming foster in its environment";
        return out;
    }
    for (int i = 0; i < n; ++i) {
        const int fd = 3 + i;  // SD_LISTEN_FDS_START
        auto owned = std::find_if(inheritance.fds.begin(), inheritance.fds.end(),
                                  [fd](const Fd& f) { return f.get() == fd; });
        if (owned == inheritance.fds.end()) continue;  // not open after all: nothing to take
        out.sockets.emplace_back(i < static_cast<int>(names.size()) ? names[static_cast<std::size_t>(i)] : "unknown",
                                 std::move(*owned));
        inheritance.fds.erase(owned);
    }
    // They are foster's now: PROGRAM ("both" mode) is not told of them.
    std::erase_if(inheritance.environment, [](const std::string& e) { return e.starts_with("LISTEN_"); });
    return out;
}

BindResult bind_sockets(const Config& config, const std::string& file, const SocketTable& current,
                        const SystemdSockets& systemd, BindMode mode) {
    BindResult result;
    for (const auto& service : config.services) {
        if (service.sockets.empty()) continue;
        ServiceSockets& sockets = result.table[service.name];
        // The instances of a table share one socket (several processes
        // accepting on it, as a pre-forked server's workers do): instance 1
        // binds it, the others hold a duplicate. services are sorted so that
        // instance 1 comes first.
        if (service.instance > 1) {
            const auto first = result.table.find(instance_name(service.instance_of, 1));
            for (std::size_t i = 0; i < service.sockets.size(); ++i) {
                HeldSocket s{service.sockets[i], Fd{}};
                if (first != result.table.end() && i < first->second.size() && first->second[i].fd)
                    s.fd = Fd{fcntl(first->second[i].fd.get(), F_DUPFD_CLOEXEC, 3)};
                sockets.push_back(std::move(s));
            }
            continue;
        }
        for (const auto& spec : service.sockets) {
            // Only systemd knows what it will pass when it starts foster:
            // --check takes a "systemd:" socket as written (where foster
            // can take sockets from systemd at all).
            if (mode == BindMode::check && spec.address.family == ListenAddress::Family::systemd &&
                systemd::available())
                continue;
            HeldSocket s{spec, Fd{}};
            errno = 0;
            std::string why = bind_one(s, current, service.name, systemd, mode);
            if (!why.empty()) {
                const int error = errno;
                if (error != 0) why += ": " + log::errno_text(error);
                result.errors.push_back(ConfigError{file, spec.line, spec.column,
                                                    "service '" + service.name + "' socket '" + spec.name + "': " +
                                                        spec.listen + ": " + why});
            }
            sockets.push_back(std::move(s));
        }
    }
    std::stable_sort(result.errors.begin(), result.errors.end(), [](const auto& a, const auto& b) {
        return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    });
    return result;
}

std::string rebind(HeldSocket& socket, const SystemdSockets& systemd) {
    errno = 0;
    std::string why = bind_one(socket, {}, {}, systemd, BindMode::hold);
    const int error = errno;
    if (!why.empty() && error != 0) why += ": " + log::errno_text(error);
    if (!why.empty()) socket.fd.reset();
    errno = error;  // for the caller's spawn_failed
    return why;
}

void pass_sockets(const ServiceSockets& sockets, SpawnRequest& request) {
    if (sockets.empty()) return;
    std::string names;
    for (const auto& s : sockets) {
        request.pass_fds.push_back(s.fd.get());
        names += (names.empty() ? "" : ":") + s.spec.name;
    }
    // The service's own `environment` does not get to contradict them.
    std::erase_if(request.envp, [](const std::string& e) { return e.starts_with("LISTEN_"); });
    request.envp.push_back("LISTEN_FDS=" + std::to_string(sockets.size()));
    request.envp.push_back("LISTEN_FDNAMES=" + names);
    request.envp.push_back("LISTEN_PID=");
    request.rewrite_listen_pid = true;
}

void unlink_unused_paths(const ServiceSockets& old, const std::set<std::string>& in_use) {
    for (const auto& s : old)
        if (s.spec.address.family == ListenAddress::Family::unix_path && in_use.count(s.spec.address.path) == 0)
            unlink(s.spec.address.path.c_str());
}

}  // namespace foster
