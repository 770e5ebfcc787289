#include "inheritance.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>

namespace foster {

namespace {

// Lists /proc/self/fd; without /proc, asks fcntl for each descriptor up to a
// bound that covers any inheritance a person would set up.
std::vector<Fd> list_open_fds() {
    std::vector<Fd> fds;
    // glibc's opendir opens with O_CLOEXEC; the directory is closed before
    // this returns, long before any child exists.
    std::unique_ptr<DIR, int (*)(DIR*)> dir{opendir("/proc/self/fd"), closedir};
    if (dir) {
        const int own = dirfd(dir.get());
        while (const dirent* entry = readdir(dir.get())) {
            if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
            const int fd = std::atoi(entry->d_name);
            if (fd > 2 && fd != own) fds.emplace_back(fd);
        }
    } else {
        for (int fd = 3; fd < 4096; ++fd)
            if (fcntl(fd, F_GETFD) >= 0) fds.emplace_back(fd);
    }
    return fds;
}

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

Inheritance capture_inheritance(char** envp) {
    Inheritance in;
    in.signals = capture_inherited_signals();
    in.fds = list_open_fds();
    for (char** e = envp; e != nullptr && *e != nullptr; ++e) in.environment.emplace_back(*e);
    in.pid = getpid();
    return in;
}

bool listen_pid_names(const std::vector<std::string>& environment, pid_t pid) {
    const std::string expected = "LISTEN_PID=" + std::to_string(pid);
    for (const auto& e : environment)
        if (e == expected) return true;
    return false;
}

std::vector<std::string> service_environment(const std::vector<std::string>& environment) {
    std::vector<std::string> out;
    for (const auto& e : environment) {
        if (starts_with(e, "NOTIFY_SOCKET=") || starts_with(e, "WATCHDOG_") || starts_with(e, "LISTEN_")) continue;
        out.push_back(e);
    }
    return out;
}

std::vector<int> fd_numbers(const std::vector<Fd>& fds) {
    std::vector<int> numbers;
    for (const auto& fd : fds) numbers.push_back(fd.get());
    return numbers;
}

}  // namespace foster
