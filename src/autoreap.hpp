// autoreap.hpp — letting the kernel reap, while PROGRAM runs.
//
// With SIGCHLD set to SIG_IGN the kernel releases every child of foster the
// moment it exits and queues no signal for it at all: an orphan never becomes
// a zombie and never wakes foster, however many of them exit. (SA_NOCLDWAIT
// would reap too, but still queues a SIGCHLD for every burst of exits, and
// foster woke for each: ~10 us a burst, ~200 ms for 20,000 orphans.)
//
// Then nothing but PROGRAM's pidfd says that PROGRAM ended, so foster waits
// with one poll on two descriptors: the signalfd (signals to forward) and
// the pidfd (PROGRAM's end); a forwarded signal costs poll + read.
//
// The price is PROGRAM's exit status, which no waitid can return any more.
// The kernel keeps it for the holder of a pidfd since Linux 6.15
// (PIDFD_GET_INFO, PIDFD_INFO_EXIT). So foster lets the kernel reap only on
// such a kernel, and keeps the waitid loop (reaper.hpp) on older ones. Once
// PROGRAM has ended, foster reaps with waitid again, because it must see the
// last leftover go.
#pragma once

#include "fd.hpp"
#include "reaper.hpp"

namespace foster {

// True when the kernel keeps exit statuses for pidfds (Linux 6.15 or later,
// and PIDFD_GET_INFO not refused, e.g. by a seccomp filter), unless
// `setting` (the environment's FOSTER_AUTOREAP) is "0".
bool autoreap_available(const char* setting);

// SIGCHLD to SIG_IGN (the kernel reaps, and queues no SIGCHLD) or to plain
// SIG_DFL (foster reaps with waitid). False, errno set, if sigaction fails.
bool set_autoreap(bool on);

// What ended a wait_while_autoreaping: signals are ready on the signalfd,
// PROGRAM has ended, or both.
struct AutoreapWakeup {
    bool signals = false;
    bool program_ended = false;
};

// Blocks until `signal_fd` has a signal or `pidfd`'s process has exited: one
// poll, with no time limit.
AutoreapWakeup wait_while_autoreaping(const Fd& signal_fd, const Fd& pidfd);

// The status of PROGRAM, which has exited (its pidfd reported it) and which
// the kernel reaps. Waits the moment until it is released (the pidfd's
// EPOLLHUP), since only then is the status stored.
ExitStatus ended_program_status(const Fd& pidfd);

// Parses a kernel release ("6.15.0-rc1", "5.10.0-28-amd64") and says whether
// it is at least major.minor. Exposed for the unit tests.
bool kernel_release_at_least(const char* release, int major, int minor);

}  // namespace foster
