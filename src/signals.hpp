// signals.hpp — how foster receives signals: all blocked, read from a signalfd.
//
// foster installs no signal handlers at all. Every signal it handles is
// blocked before the first child exists and read from one signalfd in the
// event loop, so a signal can never interrupt foster half-way through
// something, and a signal the kernel would otherwise drop for PID 1 (no
// handler installed) is queued instead: blocked signals are never discarded.
// The synchronous signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP,
// SIGSYS) stay unblocked: blocking them would turn a crash into a hang.
#pragma once

#include <signal.h>
#include <sys/signalfd.h>

#include <cstddef>
#include <span>
#include <vector>

#include "fd.hpp"

namespace foster {

// The signal state foster was started with; what PROGRAM is owed.
struct InheritedSignals {
    sigset_t mask;     // blocked at exec
    sigset_t ignored;  // SIG_IGN at exec: SIGCHLD, or every signal after ignored_signals()
};

// The mask, and SIGCHLD's disposition: the only one the entrypoint changes.
// execve passes every other disposition to PROGRAM as foster found it, so
// the entrypoint need not know them (one system call per signal asked
// about; docs/DESIGN.md, "Start-up and exit").
InheritedSignals capture_inherited_signals();

// Every signal that is ignored now: what the service runner resets to the
// default in each service. 64 system calls.
sigset_t ignored_signals();

// Every signal foster blocks and reads: all but SIGKILL, SIGSTOP and the
// synchronous ones.
sigset_t handled_signals();

// Blocks `signals` and returns a non-blocking, close-on-exec signalfd for them.
// Returns an invalid Fd (errno set) on failure.
Fd open_signalfd(const sigset_t& signals);

// A signal as foster needs to know it, from a signalfd or from sigwaitinfo.
struct ReceivedSignal {
    int number;
    int code;      // si_code: SI_USER, SI_KERNEL, ...
    pid_t sender;  // si_pid, in foster's pid namespace (0 from outside it)
    int status = 0;  // si_status: for SIGCHLD, the child's exit code or signal
};

// Drains the signalfd: every queued signal, in order. Empty when none is left.
std::vector<ReceivedSignal> read_signals(int signal_fd);

// Reads up to out.size() queued signals from the signalfd, in order, with no
// allocation (the entrypoint's wait while the kernel reaps); returns how many,
// 0 when none is left.
std::size_t read_signal_batch(int signal_fd, std::span<ReceivedSignal> out);

// Blocks until one of `signals` (all blocked) is pending and takes it: one
// system call per signal, for the entrypoint's loop while PROGRAM runs.
ReceivedSignal wait_for_signal(const sigset_t& signals);

// True for signals foster provoked itself: SIGPIPE from its own write to a
// closed pipe, SIGTTOU/SIGTTIN from its own terminal access. Forwarding those
// to PROGRAM would punish it for something foster did.
bool caused_by_foster(const ReceivedSignal& signal, pid_t self);

// -p: asks the kernel for `sig` when foster's parent dies. If the parent died
// before the request took effect, nobody would ever send it: it is sent now.
// Returns false (errno set) if the kernel refused.
bool request_parent_death_signal(int sig);

}  // namespace foster
