// supervisor_exec.cpp — a service's exec, read as an event.
//
// spawn_service starts the child with spawn_without_waiting and goes on: the
// child sets itself up and execs on another CPU while foster starts the next
// service (a hundred services' execs are no longer one after another). The
// child's report pipe closes at its exec (success) or exit (after writing
// the failed step and errno); then the child no longer reads foster's memory,
// so its SpawnMemory goes, and the state machine gets exec_succeeded or
// exec_failed, exactly as it did when the spawn waited for the exec.
#include <sys/epoll.h>

#include "log.hpp"
#include "supervisor.hpp"

namespace foster {

void Supervisor::watch_exec(StartingChild child) {
    const pid_t pid = child.pid;
    const int fd = child.report.get();
    ExecInFlight& in_flight = execs_in_flight_[pid];
    in_flight.child = std::move(child);
    in_flight.token = loop_.watch(fd, EPOLLIN, [this, pid](std::uint32_t) { on_exec_report(pid, false); });
    // epoll refused the pipe (out of memory, max_user_watches): wait here,
    // as every spawn did before.
    if (in_flight.token == 0) on_exec_report(pid, true);
}

// `exited`: the child has been reaped, so its pipe has closed: read to the end.
void Supervisor::on_exec_report(pid_t pid, bool exited) {
    const auto it = execs_in_flight_.find(pid);
    if (it == execs_in_flight_.end()) return;
    const auto outcome = read_exec_outcome(it->second.child, exited);
    if (!outcome) return;  // the child is still on its way to exec
    const std::string failure =
        outcome->stage == SpawnStage::none
            ? std::string()
            : describe_spawn_failure(outcome->stage, it->second.child.request(), outcome->detail) + ": " +
                  log::errno_text(outcome->error);
    loop_.unwatch(it->second.token);
    execs_in_flight_.erase(it);  // the child exec'd or exited: its memory is free
    const auto service = by_pid_.find(pid);
    if (service == by_pid_.end()) return;
    Service& s = *service->second;
    const log::About about(s.config.name);
    if (failure.empty()) {
        handle(s, s.machine.exec_succeeded(Clock::now()));
        return;
    }
    log::error(s.config.name + ": " + failure);
    handle(s, s.machine.exec_failed(Clock::now(), outcome->error));
}

}  // namespace foster
