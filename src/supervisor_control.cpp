// supervisor_control.cpp — the Supervisor's answers to fosterctl.
//
// Requests change only the desired state (wanted / start_pending) and feed
// the state machines; settle() does the rest, exactly as for autostart. So a
// `fosterctl start web` waits for web's dependencies like a boot would.
#include <unistd.h>

#include <algorithm>

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
    return row;
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

Response Supervisor::handle_request(const control::Request& request) {
    if (auto unknown = unknown_name(request.names)) return failure(*unknown);
    const TimePoint now = Clock::now();
    const bool shutting_down = phase_ != Phase::running;
    switch (request.command) {
        case Command::status: {
            Response r;
            for (const auto& s : services_) {
                if (s->removing) continue;
                const auto& names = request.names;
                if (names.empty() || std::find(names.begin(), names.end(), s->config.name) != names.end())
                    r.rows.push_back(status_row(*s, now));
            }
            return r;
        }
        case Command::start:
        case Command::restart:
            if (shutting_down) return failure("foster is shutting down");
            for (const auto& name : request.names) {
                Service& s = *find(name);
                log::info(name + ": " + (request.command == Command::start ? "start" : "restart") + " requested");
                s.wanted = true;
                if (request.command == Command::restart && !s.machine.is_down()) {
                    s.start_pending = true;
                    handle(s, s.machine.stop_requested(now));
                } else if (s.machine.state() == State::backoff) {
                    handle(s, s.machine.start_requested(now));  // skip the rest of the backoff
                } else if (s.machine.is_down()) {
                    s.start_pending = true;  // settle() starts it once its dependencies are ready
                }
            }
            settle();
            return ok();
        case Command::stop:
            for (const auto& name : request.names) {
                Service& s = *find(name);
                log::info(name + ": stop requested");
                s.wanted = s.start_pending = false;
                if (!s.machine.is_down()) handle(s, s.machine.stop_requested(now));
            }
            return ok();
        case Command::signal:
            for (const auto& name : request.names) {
                Service& s = *find(name);
                if (!s.main_process) return failure(name + " is not running");
                if (!send_signal(s.main_process, request.signal))
                    return failure("cannot send " + signal_name(request.signal) + " to " + name + ": " +
                                   log::errno_text(errno));
                log::info(name + ": sent " + signal_name(request.signal) + " (fosterctl)");
            }
            return ok();
        case Command::reload: {
            if (!request.names.empty()) return reload_services(request.names);
            if (!options_.config_path) return failure("no config file to reload");
            const auto errors = reload();
            if (errors.empty()) return ok();
            std::vector<std::string> details;
            for (const auto& e : errors) details.push_back(e.to_string());
            return failure("reload refused: " + std::to_string(errors.size()) + " error(s) in the config", details);
        }
        case Command::shutdown:
            log::info("shutdown requested (fosterctl)");
            begin_shutdown();
            return ok();
        case Command::check: {
            std::vector<std::string> bad;
            for (const auto& s : services_) {
                const auto& names = request.names;
                const bool named = names.empty() ? s->config.autostart && !s->removing
                                                 : std::find(names.begin(), names.end(), s->config.name) != names.end();
                if (named && !is_ready(*s))
                    bad.push_back(s->config.name + " is " + service::state_name(s->machine.state()) +
                                  (s->machine.state() == State::running && !healthy_enough(*s)
                                       ? std::string(" but ") + health_name(s->health.health())
                                       : ""));
            }
            if (bad.empty()) return ok();
            return failure(bad.front(), bad);
        }
    }
    return failure("unsupported command");
}

// start/restart: every named service ready; stop: every one down. A service
// that can no longer get there (fatal; exited and not restarting) ends the wait.
std::optional<Response> Supervisor::wait_result(const control::Request& request) {
    std::vector<std::string> failed;
    bool pending = false;
    for (const auto& name : request.names) {
        const Service* s = find(name);
        if (s == nullptr) {
            failed.push_back(name + " was removed");
            continue;
        }
        const State st = s->machine.state();
        if (request.command == Command::stop) {
            pending |= !s->machine.is_down();
            continue;
        }
        if (is_ready(*s)) continue;
        if (st == State::fatal || (st == State::exited && !s->start_pending)) {
            std::string why = name + " is " + service::state_name(st);
            if (const auto code = s->machine.exit_status()) why += " (exit status " + std::to_string(*code) + ")";
            failed.push_back(why);
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
    for (const auto& name : request.names)
        if (const Service* s = find(name)) details.push_back(name + " is " + service::state_name(s->machine.state()));
    return failure("timed out waiting", details);
}

}  // namespace foster
