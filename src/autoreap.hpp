// autoreap.hpp — letting the kernel reap, while PROGRAM runs.
//
// With SA_NOCLDWAIT on SIGCHLD the kernel releases every child of foster the
// moment it exits: an orphan never becomes a zombie, and foster does no
// waitid and no release work for it. SIGCHLD is still queued (it stays
// blocked), so foster wakes once per burst of exits, in sigwaitinfo, and all
// it does is check that PROGRAM is not among them. SIG_IGN would spare even
// that wake-up, but then nothing but a pidfd could tell foster that PROGRAM
// ended, and waiting on a pidfd too needs epoll: two system calls per
// forwarded signal instead of one.
//
// The price is PROGRAM's exit status, which no waitid can return any more.
// The SIGCHLD that PROGRAM's exit queues carries it, unless it coalesced with
// one already pending; for that case the kernel keeps the status for the
// holder of a pidfd since Linux 6.15 (PIDFD_GET_INFO, PIDFD_INFO_EXIT). So
// foster lets the kernel reap only on such a kernel, and keeps the waitid
// loop (reaper.hpp) on older ones. Once PROGRAM has ended, foster reaps with
// waitid again, because it must see the last leftover go.
#pragma once

#include <optional>

#include "fd.hpp"
#include "reaper.hpp"
#include "signals.hpp"

namespace foster {

// True when the kernel keeps exit statuses for pidfds (Linux 6.15 or later,
// and PIDFD_GET_INFO not refused, e.g. by a seccomp filter), unless
// `setting` (the environment's FOSTER_AUTOREAP) is "0".
bool autoreap_available(const char* setting);

// SIGCHLD to SIG_DFL with SA_NOCLDWAIT|SA_NOCLDSTOP (the kernel reaps, and
// stops are not reported) or plain SIG_DFL (foster reaps with waitid).
// False, errno set, if sigaction fails.
bool set_autoreap(bool on);

// While the kernel reaps: PROGRAM's status if the SIGCHLD `signal` says, or
// its pidfd shows, that it has ended; nullopt while it runs. When it has
// exited but is not released yet, waits the moment until it is (the pidfd's
// EPOLLHUP), since only then is the status stored.
std::optional<ExitStatus> ended_program_status(const ReceivedSignal& signal, pid_t program, const Fd& pidfd);

// Parses a kernel release ("6.15.0-rc1", "5.10.0-28-amd64") and says whether
// it is at least major.minor. Exposed for the unit tests.
bool kernel_release_at_least(const char* release, int major, int minor);

}  // namespace foster
