// leftovers.hpp — the processes PROGRAM left behind when it exited.
//
// They get SIGTERM (and SIGCONT, so a stopped one can act on it), then
// SIGKILL once the grace period is over; foster keeps reaping until it has no
// child left. As a subreaper, killing a process re-parents its children to
// foster, so while killing, every round of reaping looks again for
// descendants and kills the new ones too.
#pragma once

#include "duration.hpp"
#include "event_loop.hpp"

namespace foster {

class Leftovers {
public:
    Leftovers(EventLoop& loop, bool is_pid1) : loop_(loop), is_pid1_(is_pid1) {}

    // Starts the end game. Returns true when nothing is left at all.
    bool begin(Millis grace);

    // After every round of reaping: true once foster has no child left.
    bool after_reaping();

    // Skips the rest of the grace period (a second request to stop).
    void kill_now();

    [[nodiscard]] bool active() const { return phase_ != Phase::idle; }

private:
    enum class Phase { idle, terminating, killing };
    EventLoop& loop_;
    bool is_pid1_;
    Phase phase_ = Phase::idle;
    TimerQueue::Id grace_timer_ = 0;
};

}  // namespace foster
