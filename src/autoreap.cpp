#include "autoreap.hpp"

#include <linux/types.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "log.hpp"

namespace foster {

namespace {

// <linux/pidfd.h> of Linux 6.15; Debian 12's headers predate it. The kernel
// accepts this first version of the struct (64 bytes) for good.
struct PidfdInfo {
    __u64 mask;
    __u64 cgroupid;
    __u32 pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
    __s32 exit_code;  // a wait status, as waitpid returns it
};
static_assert(sizeof(PidfdInfo) == 64, "PIDFD_INFO_SIZE_VER0");
constexpr unsigned long pidfd_get_info = _IOWR(0xFF, 11, PidfdInfo);
constexpr __u64 pidfd_info_exit = 1U << 3;
constexpr int p_pidfd = 3;  // waitid's P_PIDFD (<linux/wait.h>), not in Debian 12's glibc

bool pidfd_get_info_works() {
    const Fd self{static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0))};
    if (!self) return false;
    PidfdInfo info{};
    info.mask = pidfd_info_exit;
    return ioctl(self.get(), pidfd_get_info, &info) == 0;
}

// Waits for `events` on the pidfd; timeout_ms as poll(2). True if they came.
bool pidfd_reports(const Fd& pidfd, short events, int timeout_ms) {
    pollfd entry{pidfd.get(), events, 0};
    int n;
    do n = poll(&entry, 1, timeout_ms);
    while (n < 0 && errno == EINTR);
    return n > 0;
}

std::optional<ExitStatus> kept_exit_status(const Fd& pidfd) {
    PidfdInfo info{};
    info.mask = pidfd_info_exit;
    if (ioctl(pidfd.get(), pidfd_get_info, &info) != 0 || (info.mask & pidfd_info_exit) == 0) return std::nullopt;
    const int status = info.exit_code;
    if (WIFSIGNALED(status)) return ExitStatus{true, WTERMSIG(status)};
    return ExitStatus{false, WEXITSTATUS(status)};
}

}  // namespace

bool kernel_release_at_least(const char* release, int major, int minor) {
    char* end = nullptr;
    const long have_major = std::strtol(release, &end, 10);
    if (end == release || *end != '.') return false;
    const char* minor_text = end + 1;
    const long have_minor = std::strtol(minor_text, &end, 10);
    if (end == minor_text) return false;
    return have_major > major || (have_major == major && have_minor >= minor);
}

bool autoreap_available(const char* setting) {
    if (setting != nullptr && std::strcmp(setting, "0") == 0) return false;
    utsname names{};
    if (uname(&names) != 0 || !kernel_release_at_least(names.release, 6, 15)) return false;
    return pidfd_get_info_works();
}

bool set_autoreap(bool on) {
    struct sigaction action {};
    action.sa_handler = on ? SIG_IGN : SIG_DFL;
    sigemptyset(&action.sa_mask);
    return sigaction(SIGCHLD, &action, nullptr) == 0;
}

AutoreapWakeup wait_while_autoreaping(const Fd& signal_fd, const Fd& pidfd, int timeout_ms) {
    pollfd entries[2] = {{signal_fd.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    // EINTR only: foster has no handlers. A time limit starts over then,
    // which at worst lengthens a hold by the moment of a stop and continue.
    while (poll(entries, 2, timeout_ms) < 0) {}
    // POLLHUP without POLLIN cannot happen for a pidfd (a released process
    // has exited), but it is PROGRAM's end all the same.
    return {(entries[0].revents & POLLIN) != 0, (entries[1].revents & (POLLIN | POLLHUP)) != 0};
}

bool reaped_by_the_kernel(const Fd& pidfd) {
    if (!pidfd_reports(pidfd, POLLIN, 0)) return false;  // still running
    // It has exited. A zombie is still there to wait for (WNOWAIT leaves it
    // for the reaping its SIGCHLD brings); a process the kernel reaped is no
    // child of ours any more (ECHILD).
    siginfo_t info{};
    int r;
    do r = waitid(static_cast<idtype_t>(p_pidfd), static_cast<id_t>(pidfd.get()), &info,
                  WEXITED | WNOHANG | WNOWAIT);
    while (r != 0 && errno == EINTR);
    return r != 0 && errno == ECHILD;
}

bool OrphanStorms::storm_begins(Clock::time_point now) {
    if (counted_ == 0 || now - window_start_ > window) {
        window_start_ = now;
        counted_ = 0;
    }
    if (++counted_ < wake_ups) return false;
    counted_ = 0;
    const bool again = hold_ended_ && now - *hold_ended_ <= again_within;
    hold_ = again ? std::min(hold_ * hold_growth, longest_hold) : first_hold;
    return true;
}

ExitStatus ended_program_status(const Fd& pidfd) {
    // It has exited. The kernel stores the status when it releases the
    // process, right after; EPOLLHUP (never masked by poll) says it has.
    pidfd_reports(pidfd, 0, -1);
    if (auto status = kept_exit_status(pidfd)) return *status;
    log::error("the kernel kept no exit status for PROGRAM (" + log::errno_text(errno) + "); taking 255");
    return ExitStatus{false, 255};
}

}  // namespace foster
