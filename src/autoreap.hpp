// autoreap.hpp — letting the kernel reap, during orphan storms.
//
// With SIGCHLD set to SIG_IGN the kernel releases every child of foster the
// moment it exits and queues no signal for it at all: an orphan never becomes
// a zombie and never wakes foster, however many of them exit. (SA_NOCLDWAIT
// would reap too, but still queues a SIGCHLD for every burst of exits, and
// foster woke for each: ~10 us a burst, ~200 ms for 20,000 orphans.)
//
// Then nothing but PROGRAM's pidfd says that PROGRAM ended, so foster waits
// with one poll on two descriptors: the signalfd (signals to forward) and
// the pidfd (PROGRAM's end); a forwarded signal costs poll + read, where
// foster's own reaping waits in sigwaitinfo, one system call and the
// cheapest wait there is for a signal. So foster reaps itself while orphans
// exit now and then, and lets the kernel reap only while they storm
// (OrphanStorms below).
//
// The price is PROGRAM's exit status, which no waitid can return any more.
// The kernel keeps it for the holder of a pidfd since Linux 6.15
// (PIDFD_GET_INFO, PIDFD_INFO_EXIT). So foster lets the kernel reap only on
// such a kernel, and keeps the waitid loop (reaper.hpp) on older ones. Once
// PROGRAM has ended, foster reaps with waitid again, because it must see the
// last leftover go.
#pragma once

#include <chrono>
#include <optional>

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

// Blocks until `signal_fd` has a signal or `pidfd`'s process has exited, or
// timeout_ms (poll(2)'s) has passed: one poll. Both false: the time is up.
AutoreapWakeup wait_while_autoreaping(const Fd& signal_fd, const Fd& pidfd, int timeout_ms);

// After the kernel stopped reaping: true if the process of `pidfd` (a child
// of ours) ended while it still did, so that no SIGCHLD and no waitid will
// ever tell of it. False while it runs, and when it is a zombie that foster
// reaps as any other (its SIGCHLD is queued).
bool reaped_by_the_kernel(const Fd& pidfd);

// The status of PROGRAM, which has exited (its pidfd reported it) and which
// the kernel reaps. Waits the moment until it is released (the pidfd's
// EPOLLHUP), since only then is the status stored.
ExitStatus ended_program_status(const Fd& pidfd);

// When a storm of orphan exits begins, and how long the kernel then reaps.
// foster calls storm_begins for every wake-up of its own reaping that found
// orphans (children other than PROGRAM). Eight such wake-ups within 250 ms
// (32 a second; at 10-20 us each, under 0.1 % of a core) begin a storm; a
// program that leaves a daemon behind now and then never comes near it. The
// kernel then reaps for a hold of 2 s; a storm that begins again within a
// second of a hold's end gets four times the hold, up to 64 s, so a storm of
// a minute costs foster three detections (24 wake-ups). A long hold, or a
// false alarm, costs little: until the hold ends, a forwarded signal takes
// poll + read instead of sigwaitinfo, a few microseconds. Time is passed in,
// so the unit tests need no clock.
class OrphanStorms {
public:
    using Clock = std::chrono::steady_clock;

    // A wake-up that reaped orphans, at `now`. True: a storm begins, let the
    // kernel reap for hold().
    bool storm_begins(Clock::time_point now);

    // How long the kernel reaps for the storm storm_begins reported last.
    [[nodiscard]] std::chrono::milliseconds hold() const { return hold_; }

    // The kernel stopped reaping at `now`.
    void hold_ended(Clock::time_point now) { hold_ended_ = now; }

    static constexpr int wake_ups = 8;
    static constexpr std::chrono::milliseconds window{250};
    static constexpr std::chrono::milliseconds first_hold{2000};
    static constexpr int hold_growth = 4;
    static constexpr std::chrono::milliseconds longest_hold{64000};
    static constexpr std::chrono::milliseconds again_within{1000};

private:
    Clock::time_point window_start_{};
    int counted_ = 0;
    std::chrono::milliseconds hold_{first_hold};
    std::optional<Clock::time_point> hold_ended_;
};

// Parses a kernel release ("6.15.0-rc1", "5.10.0-28-amd64") and says whether
// it is at least major.minor. Exposed for the unit tests.
bool kernel_release_at_least(const char* release, int major, int minor);

}  // namespace foster
