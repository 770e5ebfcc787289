#include "reaper.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <memory>
#include <unordered_map>

#include "autoreap.hpp"
#include "fd.hpp"
#include "log.hpp"
#include "signals.hpp"

namespace foster {

namespace {

ExitStatus status_from(const siginfo_t& info) {
    if (info.si_code == CLD_EXITED) return {false, info.si_status};
    return {true, info.si_status};  // CLD_KILLED, CLD_DUMPED
}

// The fields of /proc/PID/stat foster uses, read relative to an open /proc.
// The comm field may hold spaces and parentheses, so parse after the last ')'.
std::optional<ProcStat> read_proc_stat(int proc_fd, const char* pid_text) {
    char path[64];
    std::snprintf(path, sizeof path, "%s/stat", pid_text);
    Fd fd{openat(proc_fd, path, O_RDONLY | O_CLOEXEC)};
    if (!fd) return std::nullopt;
    char buf[512];
    const ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0) return std::nullopt;
    buf[n] = '\0';
    const char* close_paren = std::strrchr(buf, ')');
    ProcStat st{};
    int pgrp = 0;
    if (close_paren == nullptr ||
        std::sscanf(close_paren + 1, " %c %d %d %d", &st.state, &st.ppid, &pgrp, &st.session) != 4)
        return std::nullopt;
    return st;
}

// Parent pid of a live process, or -1: a zombie is waiting to be reaped, not
// to be signalled.
pid_t parent_of(int proc_fd, const char* pid_text) {
    const auto st = read_proc_stat(proc_fd, pid_text);
    return st && st->state != 'Z' ? st->ppid : -1;
}

// Every live process's parent, from one pass over /proc.
std::unordered_map<pid_t, pid_t> read_parent_map() {
    std::unordered_map<pid_t, pid_t> parents;
    // glibc's opendir opens with O_CLOEXEC.
    std::unique_ptr<DIR, int (*)(DIR*)> proc{opendir("/proc"), closedir};
    if (!proc) return parents;
    const int proc_fd = dirfd(proc.get());
    while (const dirent* entry = readdir(proc.get())) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
        const pid_t ppid = parent_of(proc_fd, entry->d_name);
        if (ppid >= 0) parents[static_cast<pid_t>(std::atoi(entry->d_name))] = ppid;
    }
    return parents;
}

// Signals one process found in a snapshot, but only if it is still the child
// of `expected_parent`: the pidfd pins the process, the second look at its
// parent proves the pid was not recycled in between.
bool signal_if_still_child(int proc_fd, pid_t pid, pid_t expected_parent, std::initializer_list<int> signals) {
    const Fd pidfd{static_cast<int>(syscall(SYS_pidfd_open, pid, 0))};
    const bool no_pidfds = !pidfd && errno == ENOSYS;
    if (!pidfd && !no_pidfds) return false;
    const std::string pid_text = std::to_string(pid);
    if (parent_of(proc_fd, pid_text.c_str()) != expected_parent) return false;
    bool sent = false;
    // Without pidfd_open (a seccomp filter answering ENOSYS; valgrind 3.19)
    // nothing can pin the process: kill() right after the second look, or
    // the leftovers would never be stopped and foster would wait for ever.
    // The pid would have to be freed and reused in between to go astray.
    for (int sig : signals) sent |= no_pidfds ? kill(pid, sig) == 0 : send_signal(pidfd, sig);
    return sent;
}

std::vector<pid_t> descendants_in(const std::unordered_map<pid_t, pid_t>& parents, pid_t root) {
    std::unordered_map<pid_t, std::vector<pid_t>> children;
    for (const auto& [pid, ppid] : parents) children[ppid].push_back(pid);
    std::vector<pid_t> found;
    std::vector<pid_t> todo{root};
    while (!todo.empty()) {
        const pid_t parent = todo.back();
        todo.pop_back();
        const auto it = children.find(parent);
        if (it == children.end()) continue;
        for (pid_t child : it->second) {
            found.push_back(child);
            todo.push_back(child);
        }
    }
    return found;
}

}  // namespace

std::vector<ReapedChild> reap_terminated_children() {
    std::vector<ReapedChild> reaped;
    for (;;) {
        siginfo_t info{};
        if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG) != 0) {
            if (errno == EINTR) continue;
            break;  // ECHILD: no children at all
        }
        if (info.si_pid == 0) break;  // children, but none has terminated
        reaped.push_back({info.si_pid, status_from(info)});
    }
    return reaped;
}

std::optional<ReapedChild> reap_if_terminated(pid_t pid) {
    if (pid <= 0) return std::nullopt;
    siginfo_t info{};
    int r;
    do r = waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG);
    while (r != 0 && errno == EINTR);
    if (r != 0 || info.si_pid == 0) return std::nullopt;
    return ReapedChild{info.si_pid, status_from(info)};
}

ExitStatus reap_child(pid_t pid) {
    siginfo_t info{};
    while (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED) != 0 && errno == EINTR) {
    }
    return status_from(info);
}

bool has_children() {
    siginfo_t info{};
    int r;
    do r = waitid(P_ALL, 0, &info, WEXITED | WSTOPPED | WCONTINUED | WNOHANG | WNOWAIT);
    while (r != 0 && errno == EINTR);
    return r == 0;
}

bool become_subreaper() { return prctl(PR_SET_CHILD_SUBREAPER, 1) == 0; }

Fd take_charge(pid_t self) {
    // SIGCHLD to plain SIG_DFL first: foster may have been started with it
    // ignored, and then the kernel would reap children before waitid could
    // see them. (The entrypoint lets the kernel reap on purpose, later, once
    // it knows the kernel keeps PROGRAM's status: autoreap.hpp.)
    set_autoreap(false);
    Fd signal_fd = open_signalfd(handled_signals());
    if (!signal_fd) {
        log::fatal("cannot set up signal handling: " + log::errno_text(errno));
        return signal_fd;
    }
    if (self != 1 && !become_subreaper()) log::error("cannot become a child subreaper: " + log::errno_text(errno));
    return signal_fd;
}

int signal_leftovers(std::initializer_list<int> signals, bool is_pid1) {
    if (is_pid1) {
        // kill(-1) skips foster itself and reaches every other process of the
        // namespace, including ones that entered it from outside.
        bool sent = false;
        for (int sig : signals) sent |= kill(-1, sig) == 0;
        return sent ? 1 : 0;
    }
    Fd proc{open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (!proc) return 0;
    const auto parents = read_parent_map();
    int signalled = 0;
    for (pid_t pid : descendants_in(parents, getpid())) {
        const auto it = parents.find(pid);
        if (it != parents.end() && signal_if_still_child(proc.get(), pid, it->second, signals)) ++signalled;
    }
    return signalled;
}

// The pid a pidfd refers to (its "Pid:" line in /proc/self/fdinfo), or 0.
pid_t pid_of(const Fd& pidfd) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/self/fdinfo/%d", pidfd.get());
    std::unique_ptr<FILE, int (*)(FILE*)> info{std::fopen(path, "re"), std::fclose};
    if (!info) return 0;
    char line[128];
    int pid = 0;
    while (std::fgets(line, sizeof line, info.get()))
        if (std::sscanf(line, "Pid: %d", &pid) == 1) break;
    return pid > 0 ? pid : 0;
}

bool send_signal(const Fd& pidfd, int sig) {
    if (syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, 0) == 0) return true;
    // Where pidfd_send_signal does not exist (a seccomp filter that answers
    // ENOSYS to what it does not know; valgrind 3.19, which tests/valgrind/run
    // uses) foster still has a pidfd from CLONE_PIDFD: kill() the pid it
    // refers to. Such a pidfd is of foster's own child, not yet reaped, so
    // that pid cannot have been reused. (Leftovers are pinned by pidfd_open,
    // which such a kernel or filter lacks too: see signal_if_still_child.)
    if (errno != ENOSYS) return false;
    const pid_t pid = pid_of(pidfd);
    return pid > 0 && kill(pid, sig) == 0;
}

bool send_signal_to_group(const Fd& pidfd, pid_t pid, int sig) {
    constexpr unsigned pidfd_signal_process_group = 1U << 2;  // Linux 6.9
    static bool kernel_has_group_flag = true;
    if (kernel_has_group_flag) {
        if (syscall(SYS_pidfd_send_signal, pidfd.get(), sig, nullptr, pidfd_signal_process_group) == 0) return true;
        // ENOSYS: no pidfd_send_signal at all (see send_signal); the group
        // leader is foster's unreaped child, so its group id is still its own.
        if (errno != EINVAL && errno != ENOSYS) return false;
        kernel_has_group_flag = false;
    }
    return kill(-pid, sig) == 0;
}

std::optional<ProcStat> proc_stat(pid_t pid) {
    const std::string pid_text = std::to_string(pid);
    return read_proc_stat(AT_FDCWD, ("/proc/" + pid_text).c_str());
}

}  // namespace foster
