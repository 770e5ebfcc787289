// entrypoint.cpp — the event loop of the entrypoint mode.
//
// Set-up may fail loudly (exit 1 before PROGRAM exists); once PROGRAM runs,
// nothing here makes foster exit except PROGRAM's end.
#include "entrypoint.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <optional>
#include <string>

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
        reap_terminated_children();  // zombies foster was started with, if any
        if (const auto failed = program_.start()) return *failed;
        if (self_ == 1 && chdir("/") != 0) log::error("cannot change directory to /: " + log::errno_text(errno));
        // While PROGRAM runs nothing but a signal (or, while the kernel
        // reaps, PROGRAM's end) can happen, so foster waits for just that:
        // sigwaitinfo, one system call per signal; or, during an orphan
        // storm, one poll of the signalfd and PROGRAM's pidfd (autoreap.hpp).
        // The end game needs a timer as well, and the event loop.
        while (!done_ && !leftovers_.active()) {
            if (kernel_reaps_) wait_while_the_kernel_reaps();
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
        if (signal.number == SIGCHLD && kernel_reaps_) return;
        if (signal.number == SIGCHLD) on_children();
        else if (caused_by_foster(signal, self_)) log::debug("ignoring " + signal_name(signal.number) + " caused by foster itself");
        else program_.forward(signal.number);
    }

    void on_children() {
        bool orphans = false;
        for (const auto& child : reap_terminated_children()) {
            if (program_.on_reaped(child)) done_ = leftovers_.begin(options_.grace);
            else orphans = true;
        }
        if (leftovers_.active()) {
            if (!done_) done_ = leftovers_.after_reaping();
        } else if (orphans && program_.running() && storms_.storm_begins(OrphanStorms::Clock::now())) {
            let_the_kernel_reap();
        }
    }

    // An orphan storm: from here until the hold ends, the kernel reaps every
    // child as it exits, waking nobody; foster wakes for a signal to forward
    // and for PROGRAM's end only.
    void let_the_kernel_reap() {
        if (!kernel_can_reap_) kernel_can_reap_ = autoreap_available(std::getenv("FOSTER_AUTOREAP"));
        if (!*kernel_can_reap_ || !set_autoreap(true)) return;
        kernel_reaps_ = true;
        hold_until_ = OrphanStorms::Clock::now() + storms_.hold();
        log::debug("orphans are exiting fast: the kernel reaps them for " + std::to_string(storms_.hold().count()) +
                   " ms");
        // The zombies of before, PROGRAM perhaps among them; none can come now.
        for (const auto& child : reap_terminated_children())
            if (program_.on_reaped(child)) after_program_ended();
    }

    void wait_while_the_kernel_reaps() {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(hold_until_ - OrphanStorms::Clock::now());
        const int timeout_ms = static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0));
        const AutoreapWakeup woken = wait_while_autoreaping(signal_fd_, program_.pidfd(), timeout_ms);
        if (woken.signals) {
            ReceivedSignal batch[8];
            const std::size_t count = read_signal_batch(signal_fd_.get(), batch);
            for (std::size_t i = 0; i < count; ++i) on_signal(batch[i]);
        }
        if (woken.program_ended) {
            program_.on_exited(ended_program_status(program_.pidfd()));
            after_program_ended();
        } else if (OrphanStorms::Clock::now() >= hold_until_) {
            reap_again();
        }
    }

    // The hold is over: foster reaps again, and waits in sigwaitinfo.
    // Children that exit from now on stay zombies, and queue a SIGCHLD.
    void reap_again() {
        stop_kernel_reaping();
        storms_.hold_ended(OrphanStorms::Clock::now());
        // PROGRAM may have ended just before, unseen by anything but its pidfd.
        if (reaped_by_the_kernel(program_.pidfd())) {
            program_.on_exited(ended_program_status(program_.pidfd()));
            after_program_ended();
        }
    }

    void stop_kernel_reaping() {
        set_autoreap(false);
        kernel_reaps_ = false;
    }

    // PROGRAM ended during a storm. From here on foster reaps with waitid:
    // it must see the last leftover go. An orphan that exits from now on
    // stays a zombie until foster reaps it; one that exited before is gone.
    void after_program_ended() {
        if (kernel_reaps_) stop_kernel_reaping();
        reap_terminated_children();
        done_ = leftovers_.begin(options_.grace);
    }

    const Options& options_;
    pid_t self_;
    sigset_t handled_ = handled_signals();
    Fd signal_fd_;
    EventLoop loop_;
    Program program_;
    Leftovers leftovers_;
    bool done_ = false;
    OrphanStorms storms_;
    std::optional<bool> kernel_can_reap_;  // asked at the first storm (autoreap.hpp)
    bool kernel_reaps_ = false;            // during a storm, while PROGRAM runs
    OrphanStorms::Clock::time_point hold_until_{};
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
