// entrypoint.cpp — the event loop of the entrypoint mode.
//
// Set-up may fail loudly (exit 1 before PROGRAM exists); once PROGRAM runs,
// nothing here makes foster exit except PROGRAM's end.
#include "entrypoint.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>

#include "autoreap.hpp"
#include "event_loop.hpp"
#include "leftovers.hpp"
#include "log.hpp"
#include "program.hpp"
#include "reaper.hpp"
#include "signal_names.hpp"
#include "signals.hpp"

namespace foster {

namespace {

class Entrypoint {
public:
    Entrypoint(const Options& options, Inheritance& inheritance, Fd signal_fd)
        : options_(options),
          self_(inheritance.pid),
          signal_fd_(std::move(signal_fd)),
          program_(options, inheritance),
          leftovers_(loop_, self_ == 1) {}

    int run() {
        autoreap_ = autoreap_available(std::getenv("FOSTER_AUTOREAP")) && set_autoreap(true);
        if (autoreap_) reap_terminated_children();  // zombies foster was started with, if any
        if (const auto failed = program_.start()) return *failed;
        if (self_ == 1 && chdir("/") != 0) log::error("cannot change directory to /: " + log::errno_text(errno));
        // While PROGRAM runs nothing but a signal (or, while the kernel
        // reaps, PROGRAM's end) can happen, so foster waits for just that:
        // sigwaitinfo, one system call per signal; or one poll of the
        // signalfd and PROGRAM's pidfd (autoreap.hpp). The end game needs a
        // timer as well, and the event loop.
        while (!done_ && !leftovers_.active()) {
            if (autoreap_) wait_while_program_runs();
            else on_signal(wait_for_signal(handled_));
        }
        if (!done_) {
            loop_.watch(signal_fd_.get(), EPOLLIN, [this](std::uint32_t) {
                for (const auto& signal : read_signals(signal_fd_.get())) on_signal(signal);
            });
            while (!done_) loop_.run_once();
        }
        return program_.exit_code();
    }

private:
    void on_signal(const ReceivedSignal& signal) {
        // While the kernel reaps, exits queue no SIGCHLD: one read here was
        // sent by someone, and PROGRAM's pidfd says all there is to know.
        if (signal.number == SIGCHLD && autoreap_) return;
        if (signal.number == SIGCHLD) on_children();
        else if (caused_by_foster(signal, self_)) log::debug("ignoring " + signal_name(signal.number) + " caused by foster itself");
        else program_.forward(signal.number);
    }

    // The kernel reaps every child as it exits, waking nobody; foster wakes
    // for a signal to forward and for PROGRAM's end only.
    void wait_while_program_runs() {
        const AutoreapWakeup woken = wait_while_autoreaping(signal_fd_, program_.pidfd());
        if (woken.signals) {
            ReceivedSignal batch[8];
            const std::size_t count = read_signal_batch(signal_fd_.get(), batch);
            for (std::size_t i = 0; i < count; ++i) on_signal(batch[i]);
        }
        if (woken.program_ended) on_program_autoreaped(ended_program_status(program_.pidfd()));
    }

    void on_program_autoreaped(ExitStatus status) {
        program_.on_exited(status);
        // From here on foster reaps with waitid: it must see the last
        // leftover go. An orphan that exits from now on stays a zombie until
        // foster reaps it; one that exited before is gone already.
        set_autoreap(false);
        autoreap_ = false;
        reap_terminated_children();
        done_ = leftovers_.begin(options_.grace);
    }

    void on_children() {
        for (const auto& child : reap_terminated_children()) {
            if (program_.on_reaped(child)) done_ = leftovers_.begin(options_.grace);
        }
        if (leftovers_.active() && !done_) done_ = leftovers_.after_reaping();
    }

    const Options& options_;
    pid_t self_;
    sigset_t handled_ = handled_signals();
    Fd signal_fd_;
    EventLoop loop_;
    Program program_;
    Leftovers leftovers_;
    bool done_ = false;
    bool autoreap_ = false;  // the kernel reaps (autoreap.hpp) until PROGRAM ends
};

}  // namespace

int run_entrypoint(const Options& options, Inheritance& inheritance) {
    Fd signal_fd = take_charge(inheritance.pid);
    if (!signal_fd) return 1;
    try {
        Entrypoint entrypoint(options, inheritance, std::move(signal_fd));
        return entrypoint.run();
    } catch (const std::exception& e) {
        // Only the loop's set-up throws (epoll, timerfd), before PROGRAM exists.
        log::fatal(std::string("cannot start: ") + e.what());
        return 1;
    }
}

}  // namespace foster
