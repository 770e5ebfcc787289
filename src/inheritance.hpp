// inheritance.hpp — what foster was given when it started.
//
// Captured first thing in main(), before foster opens or blocks anything,
// because PROGRAM is owed exactly this: the signal mask and ignored signals,
// the descriptors, the environment (foster(1), WHAT PROGRAM GETS: "foster is transparent to
// PROGRAM").
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "fd.hpp"
#include "signals.hpp"

namespace foster {

struct Inheritance {
    InheritedSignals signals;
    std::vector<Fd> fds;                   // open descriptors above 2, owned until PROGRAM has them
    std::vector<std::string> environment;  // "NAME=value", in order
    pid_t pid;                             // foster's own pid (1 as init)
};

Inheritance capture_inheritance(char** envp);

// The environment for PROGRAM: foster's own, as it was. Returns whether
// LISTEN_PID named foster (and so must be rewritten to PROGRAM's pid).
bool listen_pid_names(const std::vector<std::string>& environment, pid_t pid);

// The environment for services: foster's minus the variables systemd meant
// for foster alone (NOTIFY_SOCKET, WATCHDOG_*, LISTEN_*).
std::vector<std::string> service_environment(const std::vector<std::string>& environment);

// The numbers of the inherited descriptors, for SpawnRequest::keep_fds.
std::vector<int> fd_numbers(const std::vector<Fd>& fds);

}  // namespace foster
