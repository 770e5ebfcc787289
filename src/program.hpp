// program.hpp — PROGRAM, the one child of the entrypoint mode.
//
// Starting it transparently (what foster inherited), forwarding signals to it
// (rewritten with -r, to its group with -g), and turning its end into
// foster's exit status (-e).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "fd.hpp"
#include "inheritance.hpp"
#include "options.hpp"
#include "reaper.hpp"
#include "spawn.hpp"

namespace foster {

class Program {
public:
    Program(const Options& options, Inheritance& inheritance);

    // Starts PROGRAM. On success foster's copies of the inherited descriptors
    // are closed. On failure returns the exit status foster should exit with
    // (127/126), after logging why.
    std::optional<int> start();

    [[nodiscard]] bool running() const { return pidfd_.valid(); }
    [[nodiscard]] pid_t pid() const { return pid_; }

    // Forwards a signal foster received, as -r and -g say.
    void forward(int sig);

    // Sends `sig` as it is (no -r), to PROGRAM or its group (-g). False
    // (errno set) if it could not be sent.
    bool send(int sig);

    // Called with every reaped child; true if it was PROGRAM.
    bool on_reaped(const ReapedChild& child);

    // PROGRAM has ended with `status` (the kernel reaped it: autoreap.hpp).
    void on_exited(ExitStatus status);

    // The pidfd that holds PROGRAM while it runs.
    [[nodiscard]] const Fd& pidfd() const { return pidfd_; }

    // foster's exit status once PROGRAM has ended: its code, 128+N for a
    // signal death, 0 for a code listed with -e.
    [[nodiscard]] int exit_code() const;

private:
    SpawnRequest build_request() const;

    const Options& options_;
    Inheritance& inheritance_;
    pid_t pid_ = -1;
    Fd pidfd_;
    bool took_terminal_ = false;
    std::optional<ExitStatus> exit_;
};

}  // namespace foster
