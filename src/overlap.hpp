// overlap.hpp — overlapping restarts: a second run of a service beside the
// one its state machine tracks.
//
// `fosterctl restart --overlap NAME` (and a reload that changed a service with
// restart_mode = "overlap") hands the running process over to a SideRun, and
// the state machine starts a new one (StateMachine::hand_over). Both share the
// held sockets, so the old one keeps accepting while the new one starts:
//
//   old run (SideRun)                new run (the StateMachine's)
//   serving ------------------------ starting (spawn, readiness by `type`,
//     |                                 |      then the healthcheck)
//     | new ready: stop_signal          |
//     v  (or stop_command)              v
//   draining -> SIGKILL after        running: the overlap is over once the
//     stop_timeout, gone              old run is gone
//
//   If the new run does not become ready (its main process exits, it cannot
//   be spawned, it turns unhealthy, or overlap_timeout passes) the machine
//   takes the old run back (StateMachine::take_back) and the new one becomes
//   the SideRun, `abandoned`: stop_signal, SIGKILL after stop_timeout, gone.
//
// Why a side run rather than more states: the machine keeps describing one
// run, the one that decides the service's state, restarts and readiness; the
// other run only ever needs to be stopped, which is this class's whole job.
// Its exit never reaches the machine, so the restart policy never sees it,
// and a crash of the old run while serving is only logged: the new run is
// taking over. Like the machine, SideRun makes no system call: the
// supervisor carries out the Steps (supervisor_overlap.cpp).
#pragma once

#include <optional>
#include <string>

#include "service_state.hpp"

namespace foster::service {

class SideRun {
public:
    enum class Role {
        serving,    // the old run, while the new one is not ready
        draining,   // the old run, stopping because the new one is ready
        abandoned,  // a new run that did not become ready, stopping
    };

    // What the supervisor must do, in this order.
    struct Step {
        bool stop = false;            // stop_command if the service has one and the main process lives, else stop_signal
        int send_signal = 0;          // to the run's process group and main process; 0 for none
        std::optional<TimePoint> arm; // the stop's deadline (replaces any earlier one)
        std::string message;          // for the log; empty for nothing worth saying
    };

    SideRun(std::string name, Run run, Role role);

    // Begins stopping the run with the policy's stop_signal, or SIGKILL at
    // once when stop_timeout is 0. A stop already begun is left as it is
    // (the role still changes).
    Step stop(TimePoint now, Role role, const Policy& policy);
    // SIGKILL now, if not sent yet (the shutdown skips the waiting).
    Step kill();
    // The stop's deadline passed: SIGKILL.
    Step timer_fired(TimePoint now);
    // The main process was reaped. A serving run that ends this way is not
    // restarted (the new one takes over); what it left in its group is stopped.
    Step main_exited(TimePoint now, ExitStatus status, bool group_empty, const Policy& policy);
    // kill(-pgid, 0) found nobody left in the run's group.
    void group_emptied() { run_.group_alive = false; }

    [[nodiscard]] const Run& run() const noexcept { return run_; }
    [[nodiscard]] Role role() const noexcept { return role_; }
    [[nodiscard]] bool serving() const noexcept { return role_ == Role::serving; }
    [[nodiscard]] bool stopping() const noexcept { return stopping_; }
    [[nodiscard]] bool kill_sent() const noexcept { return kill_sent_; }
    [[nodiscard]] std::optional<TimePoint> deadline() const noexcept { return deadline_; }
    // Main process gone and group empty: the supervisor forgets the run.
    [[nodiscard]] bool over() const noexcept { return !run_.main_alive && !run_.group_alive; }
    // The main process is gone but the group was not yet reported empty.
    [[nodiscard]] bool waiting_for_group() const noexcept { return !run_.main_alive && run_.group_alive; }

private:
    std::string describe_run() const;

    std::string name_;
    Run run_;
    Role role_;
    bool stopping_ = false;
    bool kill_sent_ = false;
    std::optional<TimePoint> deadline_;
};

// "serving", "draining", "abandoned": what fosterctl status shows.
const char* role_name(SideRun::Role role) noexcept;

// What an overlap waiting for its new run does next, from the new run's
// state (StateMachine::state()), whether it is ready (announced ready,
// running, and healthy when it has a healthcheck) and whether
// overlap_timeout has passed.
enum class OverlapStep { wait, drain_old, abandon_new };
OverlapStep overlap_step(State new_run, bool new_run_ready, bool timed_out) noexcept;

}  // namespace foster::service
