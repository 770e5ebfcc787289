// main_process.hpp — a service's main process, held by its pid.
//
// Not by a pidfd: every descriptor foster holds is copied into each child it
// starts (clone) and closed again at that child's exec, so with one pidfd
// per running service the N-th start paid for N-1 descriptors twice, and
// starting 10,000 services grew as N² (docs/DESIGN.md, "Services start in
// parallel"). The pid is as safe: foster is the parent and reaps with waitid
// itself, so the pid cannot be recycled before foster has reaped the
// process, and on_children drops it (reset) for every child it reaped before
// it handles any of them.
#pragma once

#include <signal.h>
#include <sys/types.h>

namespace foster {

struct MainProcess {
    pid_t pid = -1;

    explicit operator bool() const { return pid > 0; }
    void reset() { pid = -1; }
};

// False on failure, errno set.
inline bool send_signal(const MainProcess& process, int sig) { return process && kill(process.pid, sig) == 0; }

}  // namespace foster
