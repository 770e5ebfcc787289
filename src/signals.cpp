#include "signals.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>

namespace foster {

namespace {

constexpr int synchronous_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS};

}  // namespace

InheritedSignals capture_inherited_signals() {
    InheritedSignals state{};
    sigemptyset(&state.ignored);
    sigprocmask(SIG_SETMASK, nullptr, &state.mask);
    for (int sig = 1; sig < NSIG; ++sig) {
        struct sigaction current {};
        if (sigaction(sig, nullptr, &current) == 0 && current.sa_handler == SIG_IGN)
            sigaddset(&state.ignored, sig);
    }
    return state;
}

sigset_t handled_signals() {
    sigset_t set;
    sigfillset(&set);
    sigdelset(&set, SIGKILL);
    sigdelset(&set, SIGSTOP);
    for (int sig : synchronous_signals) sigdelset(&set, sig);
    return set;
}

Fd open_signalfd(const sigset_t& signals) {
    if (sigprocmask(SIG_BLOCK, &signals, nullptr) != 0) return Fd{};
    return Fd{signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC)};
}

std::vector<signalfd_siginfo> read_signals(int signal_fd) {
    std::vector<signalfd_siginfo> out;
    signalfd_siginfo batch[16];
    for (;;) {
        const ssize_t n = ::read(signal_fd, batch, sizeof batch);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // EAGAIN: drained
        const auto count = static_cast<std::size_t>(n) / sizeof(signalfd_siginfo);
        out.insert(out.end(), batch, batch + count);
        if (count < std::size(batch)) break;
    }
    return out;
}

bool request_parent_death_signal(int sig) {
    const pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, sig) != 0) return false;
    if (getppid() != parent) kill(getpid(), sig);
    return true;
}

bool caused_by_foster(const signalfd_siginfo& info) {
    const int sig = static_cast<int>(info.ssi_signo);
    const bool self_sent = info.ssi_code == SI_USER && static_cast<pid_t>(info.ssi_pid) == getpid();
    const bool kernel_sent = info.ssi_code == SI_KERNEL;
    if (sig == SIGPIPE) return self_sent || kernel_sent;
    if (sig == SIGTTOU || sig == SIGTTIN) return kernel_sent;
    return false;
}

}  // namespace foster
