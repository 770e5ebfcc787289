// supervisor_control.cpp — the Supervisor's answers to fosterctl.
//
// Requests change only the desired state (wanted / start_pending) and feed
// the state machines; settle() does the rest, exactly as for autostart. So a
// `fosterctl start web` waits for web's dependencies like a boot would.
#include <unistd.h>

#include <algorithm>

#include "instances.hpp"
#include "log.hpp"
#include "signal_names.hpp"
#include "supervisor.hpp"

namespace foster {

namespace {

using service::State;
using control::Command;
using control::Response;

Response ok() { return Response{}; }
Response failure(std::string text, std::vector<std::string> details = {}) {
    return Response{false, std::move(text), {}, std::move(details)};
}

// True when `name` is among the names asked for, or none was.
bool named(const std::vector<std::string>& names, const std::string& name) {
    return names.empty() || std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

control::StatusRow Supervisor::status_row(const Service& s, TimePoint now) const {
    control::StatusRow row;
    row.name = s.config.name;
    row.state = service::state_name(s.machine.state());
    if (const auto pid = s.machine.pid()) row.pid = *pid;
    if (const auto started = s.machine.started_at(); started && s.machine.pid())
        row.uptime_ms = std::chrono::duration_cast<Millis>(now - *started).count();
    row.restarts = s.machine.restarts();
    row.exit_status = s.machine.exit_status();
    row.health = s.config.healthcheck && s.machine.state() == State::running ? health_name(s.health.health()) : "-";
    if (s.next_run) row.next_run = std::chrono::duration_cast<std::chrono::seconds>(s.next_run->time_since_epoch()).count();
    if (s.side) {
        row.overlap_pid = s.side->run().pid;
        row.overlap_role = service::role_name(s.side->role());
    }
    return row;
}

// start (restart: false) or restart (true) of one service by request.
void Supervisor::request_start(Service& s, bool restart, TimePoint now) {
    s.wanted = true;
    if (restart && !s.machine.is_down()) {
        s.start_pending = true;
        handle(s, s.machine.stop_requested(now));
    } else if (s.machine.state() == State::backoff) {
        handle(s, s.machine.start_requested(now));  // skip the rest of the backoff
    } else if (s.machine.is_down()) {
        s.start_pending = true;  // settle() starts it once its dependencies are ready
    }
}

std::vector<std::string> Supervisor::expand_names(const std::vector<std::string>& names) const {
    std::vector<std::string> out;
    for (const auto& name : names) {
        if (find(name) != nullptr) {
            out.push_back(name);
            continue;
        }
        const auto instances = index().instances_of(name);
        for (const Service* s : instances) out.push_back(s->config.name);
        if (instances.empty()) out.push_back(name);  // unknown: unknown_name says so
    }
    return out;
}

std::optional<std::string> Supervisor::unknown_name(const std::vector<std::string>& names) const {
    for (const auto& name : names)
        if (find(name) == nullptr) return "unknown service '" + name + "'";
    return std::nullopt;
}

// Every name is checked before anything is sent, so a refused request sends nothing.
Response Supervisor::reload_services(const std::vector<std::string>& names) {
    for (const auto& name : names) {
        const Service& s = *find(name);
        if (!s.config.reload_signal) return failure(name + " has no reload_signal");
        if (!s.main_process) return failure(name + " is not running");
    }
    for (const auto& name : names) {
        Service& s = *find(name);
        const int sig = *s.config.reload_signal;
        if (!send_signal(s.main_process, sig))
            return failure("cannot send " + signal_name(sig) + " to " + name + ": " + log::errno_text(errno));
        log::info(name + ": sent " + signal_name(sig) + " to reload it (fosterctl)");
    }
    return ok();
}

// One function per command.
Response Supervisor::handle_request(const control::Request& asked) {
    // A table's name stands for every one of its instances.
    control::Request request = asked;
    request.names = expand_names(asked.names);
    if (auto unknown = unknown_name(request.names)) return failure(*unknown);
    switch (request.command) {
        case Command::status: return answer_status(request.names);
        case Command::start:
        case Command::restart: return answer_start(request);
        case Command::stop: return answer_stop(request.names);
        case Command::signal: return answer_signal(request.names, request.signal);
        case Command::reload: return request.names.empty() ? answer_reload() : reload_services(request.names);
        case Command::reopen: return answer_reopen();
        case Command::shutdown: return answer_shutdown();
        case Command::check: return answer_check(request.names);
        case Command::logs:  // answered by the control server from the log buffer (control_logs.cpp)
            break;
    }
    return failure("unsupported command");
}

Response Supervisor::answer_status(const std::vector<std::string>& names) const {
    const TimePoint now = Clock::now();
    Response r;
    for (const auto& s : services_)
        if (!s->removing && named(names, s->config.name)) r.rows.push_back(status_row(*s, now));
    return r;
}

Response Supervisor::answer_start(const control::Request& request) {
    if (phase_ != Phase::running) return failure("foster is shutting down");
    if (request.overlap) return restart_overlapping(request.names);
    const bool restart = request.command == Command::restart;
    const TimePoint now = Clock::now();
    for (const auto& name : request.names) {
        log::info(name + ": " + (restart ? "restart" : "start") + " requested");
        request_start(*find(name), restart, now);
    }
    // At once, not after the batch (DESIGN.md, "Desired state"): requests
    // act in the order they came, so a stop read in the same batch reaches
    // the process this start made, and the start's wait is judged against
    // a service that has begun to start.
    settle();
    return ok();
}

Response Supervisor::answer_stop(const std::vector<std::string>& names) {
    const TimePoint now = Clock::now();
    for (const auto& name : names) {
        Service& s = *find(name);
        log::info(name + ": stop requested");
        s.wanted = s.start_pending = false;
        if (!s.machine.is_down()) handle(s, s.machine.stop_requested(now));
    }
    return ok();
}

Response Supervisor::answer_signal(const std::vector<std::string>& names, int sig) {
    for (const auto& name : names) {
        Service& s = *find(name);
        if (!s.main_process) return failure(name + " is not running");
        if (!send_signal(s.main_process, sig))
            return failure("cannot send " + signal_name(sig) + " to " + name + ": " + log::errno_text(errno));
        log::info(name + ": sent " + signal_name(sig) + " (fosterctl)");
    }
    return ok();
}

Response Supervisor::answer_reload() {
    if (!options_.config_path) return failure("no config file to reload");
    const auto errors = reload();
    if (errors.empty()) return ok();
    std::vector<std::string> details;
    for (const auto& e : errors) details.push_back(e.to_string());
    return failure("reload refused: " + std::to_string(errors.size()) + " error(s) in the config", details);
}

// logrotate's postrotate: the files foster writes itself, opened again at
// their paths (a renamed file is let go, a new one made).
Response Supervisor::answer_reopen() {
    log::info("reopening the output files (fosterctl)");
    const std::string failures = reopen_output_files();
    if (failures.empty()) return ok();
    return failure("cannot reopen every output file: " + failures);
}

Response Supervisor::answer_shutdown() {
    log::info("shutdown requested (fosterctl)");
    begin_shutdown();
    return ok();
}

// Ready as dependents see it; without names, every service that starts by itself.
Response Supervisor::answer_check(const std::vector<std::string>& names) const {
    std::vector<std::string> bad;
    for (const auto& s : services_) {
        const bool asked = names.empty() ? s->config.autostart && !s->removing : named(names, s->config.name);
        if (!asked || is_ready(*s)) continue;
        std::string why = s->config.name + " is " + service::state_name(s->machine.state());
        if (s->machine.state() == State::running && !healthy_enough(*s))
            why += std::string(" but ") + health_name(s->health.health());
        bad.push_back(std::move(why));
    }
    if (bad.empty()) return ok();
    return failure(bad.front(), bad);
}

// "fatal", "exited (exit status 1)": the state of one that gave_up().
std::string Supervisor::given_up_state(const Service& s) const {
    std::string state = service::state_name(s.machine.state());
    if (const auto code = s.machine.exit_status()) state += " (exit status " + std::to_string(*code) + ")";
    return state;
}

// The dependency that keeps a service waiting to start, when that one has
// given up (fatal, or exited and not to be started again): foster does not
// start dependencies by itself, so the wait would only end at the timeout.
// A dependency that is stopped may yet be started by someone; not this one.
const Service* Supervisor::given_up_dependency(const Service& s) const {
    if (!s.start_pending || !s.machine.is_down()) return nullptr;
    const Service* blocker = nullptr;
    if (dependencies_ready(s, blocker) || blocker == nullptr || is_ready(*blocker)) return nullptr;
    return gave_up(*blocker) ? blocker : nullptr;
}

// start/restart: every named service ready; stop: every one down. A service
// that can no longer get there (fatal; exited and not restarting; waiting for
// a dependency that is either) ends the wait.
std::optional<Response> Supervisor::wait_result(const control::Request& request) {
    std::vector<std::string> failed;
    bool pending = false;
    for (const auto& name : expand_names(request.names)) {
        const Service* s = find(name);
        if (s == nullptr) {
            failed.push_back(name + " was removed");
            continue;
        }
        if (request.command == Command::stop) {
            pending |= !s->down();
            continue;
        }
        if (request.overlap) {
            if (s->overlap_failure) {
                failed.push_back(name + ": " + *s->overlap_failure);
                continue;
            }
            // Done once the new run is ready and the old one is gone, so
            // that the next deploy finds the service with one process.
            if (s->side) {
                pending = true;
                continue;
            }
        }
        if (is_ready(*s)) continue;
        if (gave_up(*s)) {
            failed.push_back(name + " is " + given_up_state(*s));
        } else if (const Service* dep = given_up_dependency(*s)) {
            failed.push_back(name + " waits for " + dep->config.name + ", which is " + given_up_state(*dep));
        } else {
            pending = true;
        }
    }
    if (!failed.empty()) return failure(failed.front(), failed);
    if (pending) return std::nullopt;
    return ok();
}

Response Supervisor::wait_timed_out(const control::Request& request) {
    std::vector<std::string> details;
    for (const auto& name : expand_names(request.names)) {
        const Service* s = find(name);
        if (s == nullptr) continue;
        std::string detail = name + " is " + service::state_name(s->machine.state());
        if (s->side)
            detail += "; its other process (pid " + std::to_string(s->side->run().pid) + ") is " +
                      service::role_name(s->side->role());
        details.push_back(std::move(detail));
    }
    return failure("timed out waiting", details);
}

}  // namespace foster
