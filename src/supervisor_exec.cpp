// supervisor_exec.cpp — a service's exec, read as an event.
//
// spawn_service starts the child with spawn_without_waiting and goes on: the
// child sets itself up and execs on another CPU while foster starts the next
// service (a hundred services' execs are no longer one after another). The
// child's report pipe closes at its exec (success) or exit (after writing
// the failed step and errno); then the child no longer reads foster's memory,
// so its SpawnMemory goes, and the state machine gets exec_succeeded or
// exec_failed, exactly as it did when the spawn waited for the exec.
#include <poll.h>
#include <sys/epoll.h>

#include <cerrno>
#include <vector>

#include "log.hpp"
#include "supervisor.hpp"

namespace foster {

namespace {

// Children between clone and exec at once. Each holds its SpawnMemory (a copy
// of its argv and plan, a stack) and a pipe: ten thousand services started
// at once must not hold ten thousand of each. Two CPUs are kept busy by far
// fewer.
constexpr std::size_t execs_in_flight_max = 32;

// How long a start over that bound waits for one of them: a child stuck
// before its exec (a FIFO, a hung mount) must not stop foster for long.
constexpr int exec_wait_ms = 100;

}  // namespace

// Waits (at most exec_wait_ms) until one of the children in flight has
// exec'd or failed, and reports it.
void Supervisor::wait_for_an_exec() {
    std::vector<pollfd> fds;
    std::vector<pid_t> pids;
    for (const auto& [pid, in_flight] : execs_in_flight_) {
        fds.push_back({in_flight.child.report.get(), POLLIN, 0});
        pids.push_back(pid);
    }
    int n;
    do n = ::poll(fds.data(), fds.size(), exec_wait_ms);
    while (n < 0 && errno == EINTR);
    for (std::size_t i = 0; n > 0 && i < fds.size(); ++i)
        if (fds[i].revents != 0) on_exec_report(pids[i], false);
}

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

void Supervisor::make_room_for_an_exec() {
    if (execs_in_flight_.size() >= execs_in_flight_max) wait_for_an_exec();
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

// Once, at the end of the first settle with no child left between clone and
// exec: later bursts keep their stacks (release_kept_stacks, spawn.hpp). Not
// when the last exec in flight reports: that happens in the middle of a
// start-up too, when wait_for_an_exec finds every child of a full batch
// done, and the stacks of the starts after it would be kept.
void Supervisor::end_start_up_burst() {
    if (start_up_burst_over_ || !execs_in_flight_.empty()) return;
    start_up_burst_over_ = true;
    release_kept_stacks();
}

}  // namespace foster
