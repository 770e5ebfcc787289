#include "signals.hpp"

#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace foster {

namespace {

constexpr int synchronous_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS};

}  // namespace

namespace {

bool is_ignored(int sig) {
    struct sigaction current {};
    return sigaction(sig, nullptr, &current) == 0 && current.sa_handler == SIG_IGN;
}

}  // namespace

InheritedSignals capture_inherited_signals() {
    InheritedSignals state{};
    sigprocmask(SIG_SETMASK, nullptr, &state.mask);
    sigemptyset(&state.ignored);
    if (is_ignored(SIGCHLD)) sigaddset(&state.ignored, SIGCHLD);
    return state;
}

sigset_t ignored_signals() {
    sigset_t ignored;
    sigemptyset(&ignored);
    for (int sig = 1; sig < NSIG; ++sig)
        if (is_ignored(sig)) sigaddset(&ignored, sig);
    return ignored;
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

std::vector<ReceivedSignal> read_signals(int signal_fd) {
    std::vector<ReceivedSignal> out;
    ReceivedSignal batch[16];
    for (;;) {
        const std::size_t count = read_signal_batch(signal_fd, batch);
        out.insert(out.end(), batch, batch + count);
        if (count < std::size(batch)) break;
    }
    return out;
}

std::size_t read_signal_batch(int signal_fd, std::span<ReceivedSignal> out) {
    signalfd_siginfo raw[16];
    const std::size_t wanted = std::min(out.size(), std::size(raw));
    ssize_t n;
    do n = ::read(signal_fd, raw, wanted * sizeof(signalfd_siginfo));
    while (n < 0 && errno == EINTR);
    if (n <= 0) return 0;  // EAGAIN: drained
    const auto count = static_cast<std::size_t>(n) / sizeof(signalfd_siginfo);
    for (std::size_t i = 0; i < count; ++i)
        out[i] = {static_cast<int>(raw[i].ssi_signo), raw[i].ssi_code, static_cast<pid_t>(raw[i].ssi_pid),
                  raw[i].ssi_status};
    return count;
}

ReceivedSignal wait_for_signal(const sigset_t& signals) {
    siginfo_t info{};
    int sig;
    do sig = sigwaitinfo(&signals, &info);
    while (sig < 0);  // EINTR only: every signal of the set is blocked
    return {sig, info.si_code, info.si_pid, info.si_status};
}

bool request_parent_death_signal(int sig) {
    const pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, sig) != 0) return false;
    if (getppid() != parent) kill(getpid(), sig);
    return true;
}

bool caused_by_foster(const ReceivedSignal& signal, pid_t self) {
    const bool self_sent = signal.code == SI_USER && signal.sender == self;
    const bool kernel_sent = signal.code == SI_KERNEL;
    if (signal.number == SIGPIPE) return self_sent || kernel_sent;
    if (signal.number == SIGTTOU || signal.number == SIGTTIN) return kernel_sent;
    return false;
}

}  // namespace foster
