// reaper.hpp — collecting dead children, and finding the ones still alive.
//
// foster reaps with waitid(P_ALL, WNOHANG) in a loop until nothing is left,
// because SIGCHLDs coalesce: one queued SIGCHLD may stand for a thousand
// exits. Orphans foster never started are reaped the same way.
#pragma once

#include <sys/types.h>

#include <initializer_list>
#include <optional>
#include <vector>

#include "exit_status.hpp"
#include "fd.hpp"

namespace foster {

struct ReapedChild {
    pid_t pid;
    ExitStatus exit;
};

// Reaps every child that has terminated, in the order waitid returns them.
// Each call is a pass of the kernel over all of foster's children
// (wait_consider_task), so with thousands of them it is not for every exit.
std::vector<ReapedChild> reap_terminated_children();

// Reaps `pid` if it is a child of foster's that has terminated: one waitid
// that looks at that process alone. Nothing otherwise (running, stopped, not
// foster's child).
std::optional<ReapedChild> reap_if_terminated(pid_t pid);

// Waits for one child that is known to have exited (or to be about to).
ExitStatus reap_child(pid_t pid);

// True while foster has any child at all, dead or alive (waitid, WNOWAIT).
bool has_children();

// Becomes a child subreaper, so orphans of our descendants come to us.
bool become_subreaper();

// What both modes do before their first child: block every handled signal
// and open the signalfd for them, then (unless foster is PID 1) become a
// subreaper. Returns an invalid Fd, after logging why, when foster cannot
// take charge at all.
Fd take_charge(pid_t self);

// Sends `signals`, in order, to every descendant of foster, through a pidfd
// so that a pid recycled since the snapshot is never hit. As PID 1 uses
// kill(-1), which reaches every process of the namespace. One scan of /proc
// serves all the signals. Returns how many processes were signalled.
int signal_leftovers(std::initializer_list<int> signals, bool is_pid1);

// Signals the process a pidfd holds (never a recycled pid). False on failure,
// errno set (ESRCH once it has exited).
bool send_signal(const Fd& pidfd, int sig);

// Signals the process group of the process a pidfd holds (Linux 6.9:
// PIDFD_SIGNAL_PROCESS_GROUP). Older kernels get kill(-pid): safe there,
// because they never auto-reap PROGRAM (autoreap.hpp), so its unreaped
// zombie keeps `pid` from being recycled as a group id.
bool send_signal_to_group(const Fd& pidfd, pid_t pid, int sig);

// What /proc/PID/stat says of a process that foster needs.
struct ProcStat {
    char state;     // 'R', 'S', 'Z', ...
    pid_t ppid;
    pid_t session;  // a service's session id is the pid foster started for it
};
std::optional<ProcStat> proc_stat(pid_t pid);

}  // namespace foster
