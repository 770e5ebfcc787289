// reaper.hpp — collecting dead children, and finding the ones still alive.
//
// foster reaps with waitid(P_ALL, WNOHANG) in a loop until nothing is left,
// because SIGCHLDs coalesce: one queued SIGCHLD may stand for a thousand
// exits. Orphans foster never started are reaped the same way.
#pragma once

#include <sys/types.h>

#include <vector>

namespace foster {

struct ExitStatus {
    bool signaled = false;  // killed by a signal (status = the signal)
    int status = 0;         // exit code, or signal number when signaled

    // The shell's convention: the code, or 128 + the signal.
    [[nodiscard]] int code() const noexcept { return signaled ? 128 + status : status; }
    bool operator==(const ExitStatus&) const = default;
};

struct ReapedChild {
    pid_t pid;
    ExitStatus exit;
};

// Reaps every child that has terminated, in the order waitid returns them.
std::vector<ReapedChild> reap_terminated_children();

// Waits for one child that is known to have exited (or to be about to).
ExitStatus reap_child(pid_t pid);

// True while foster has any child at all, dead or alive (waitid, WNOWAIT).
bool has_children();

// Becomes a child subreaper, so orphans of our descendants come to us.
bool become_subreaper();

// The live descendants of `root` (children, grandchildren, ...), read from
// /proc. A snapshot: processes may come and go while it is taken.
std::vector<pid_t> find_descendants(pid_t root);

// Sends `sig` to every descendant of foster, through a pidfd so that a pid
// recycled since the snapshot is never hit. As PID 1 uses kill(-1), which
// reaches every process of the namespace. Returns how many were signalled.
int signal_leftovers(int sig, bool is_pid1);

}  // namespace foster
