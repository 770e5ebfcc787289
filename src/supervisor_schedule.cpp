// supervisor_schedule.cpp — `schedule`: starting a oneshot at its times
// (foster.toml(5), SCHEDULES).
//
// Each scheduled service has one entry in the loop's timer queue, for its
// next start only, so foster sleeps in epoll_wait until then: no periodic
// wake-up. A cron time is turned into a deadline on the loop's monotonic
// clock when it is armed; a change of the wall clock (or of the time zone)
// moves the next run only once that run has come and the one after it is
// computed. Runs missed while foster was not running are not made up.
#include <chrono>

#include "log.hpp"
#include "supervisor.hpp"

namespace foster {

void Supervisor::cancel_schedule(Service& s) {
    loop_.timers().cancel(std::exchange(s.schedule_timer, 0));
    s.next_run.reset();
}

void Supervisor::arm_schedule(Service& s) {
    const auto& schedule = s.config.schedule;
    const bool was_armed = s.next_run.has_value();
    const TimePoint previous = s.next_run_at;
    cancel_schedule(s);
    if (!schedule || s.removing || phase_ != Phase::running) return;
    const TimePoint now = Clock::now();
    const WallClock::time_point wall_now = WallClock::now();
    if (schedule->cron) {
        const auto next = next_cron_time(*schedule->cron, wall_now);
        if (!next) {
            log::error(s.config.name + ": schedule '" + schedule->text + "' has no next time; not scheduled");
            return;
        }
        s.next_run = *next;
        s.next_run_at = now + std::chrono::duration_cast<Clock::duration>(*next - wall_now);
    } else {
        // "every": from the last planned start, so runs do not drift by the
        // time foster takes to react; after a pause (a run skipped, a clock
        // that jumped), from now.
        TimePoint at = was_armed ? previous + schedule->every : now + schedule->every;
        if (at <= now) at = now + schedule->every;
        s.next_run_at = at;
        s.next_run = wall_now + std::chrono::duration_cast<WallClock::duration>(at - now);
    }
    Service* target = &s;
    s.schedule_timer = loop_.timers().schedule(s.next_run_at, [this, target] {
        target->schedule_timer = 0;
        on_schedule(*target);
    });
}

// A run that is still going (or waiting to start, or in backoff after a
// failure) is not overlapped: this start is skipped and the next one planned.
void Supervisor::on_schedule(Service& s) {
    if (phase_ != Phase::running || s.removing) return;
    if (s.machine.is_down() && !s.start_pending && s.post_stop_pid <= 0) {
        log::info(s.config.name + ": scheduled start (" + s.config.schedule->text + ")");
        s.start_pending = true;  // settle() starts it once its dependencies are ready
    } else {
        log::info(s.config.name + ": still " + service::state_name(s.machine.state()) +
                  " at its scheduled time; this run is skipped");
    }
    arm_schedule(s);
}

}  // namespace foster
