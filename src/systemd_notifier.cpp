#include "systemd_notifier.hpp"

#include <time.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cerrno>

#include "log.hpp"
#include "systemd.hpp"

namespace foster {

namespace {

using service::State;

// The order states appear in: what runs first, trouble next, the rest last.
constexpr std::array<State, 7> status_order{State::running,  State::starting, State::stopping, State::backoff,
                                            State::fatal,    State::exited,   State::stopped};

// At most this many names in one parenthesis: STATUS= is one short line.
constexpr std::size_t max_names = 3;

std::string why(const ServiceSummary& s) {
    if (s.exec_failed) return s.name + ": cannot run";
    if (!s.exit_status) return s.name;
    return s.name + ": exit " + std::to_string(*s.exit_status);
}

// "(a: exit 1, b: exit 2, …)" for the services given.
std::string names_in_parentheses(const std::vector<std::string>& names) {
    std::string out = " (";
    for (std::size_t i = 0; i < names.size() && i < max_names; ++i) {
        if (i > 0) out += ", ";
        out += names[i];
    }
    if (names.size() > max_names) out += ", …";
    return out + ")";
}

std::uint64_t monotonic_usec() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000U + static_cast<std::uint64_t>(ts.tv_nsec) / 1000U;
}

}  // namespace

std::string status_summary(const std::vector<ServiceSummary>& services) {
    if (services.empty()) return "no services";
    std::string out;
    for (const State state : status_order) {
        std::size_t count = 0;
        std::vector<std::string> details;
        for (const auto& s : services) {
            if (s.state != state) continue;
            ++count;
            if (state == State::backoff) details.push_back(why(s));
            if (state == State::fatal) details.push_back(s.name);
        }
        if (count == 0) continue;
        if (!out.empty()) out += ", ";
        out += std::to_string(count) + " " + service::state_name(state);
        if (!details.empty()) out += names_in_parentheses(details);
    }
    std::vector<std::string> unhealthy;
    for (const auto& s : services)
        if (s.unhealthy) unhealthy.push_back(s.name);
    if (!unhealthy.empty()) out += ", " + std::to_string(unhealthy.size()) + " unhealthy" + names_in_parentheses(unhealthy);
    return out;
}

SystemdNotifier::SystemdNotifier() {
    if (std::getenv("NOTIFY_SOCKET") == nullptr) return;
    if (!systemd::available()) {
        log::error("NOTIFY_SOCKET is set but systemd cannot be notified (" + systemd::unavailable_reason() +
                   "); systemd will not hear that foster is ready");
        return;
    }
    enabled_ = true;
    watchdog_ = systemd::watchdog_interval();
}

void SystemdNotifier::send(const std::string& message) {
    if (!enabled_) return;
    const int sent = systemd::notify(message);
    if (sent < 0) log::debug("cannot notify systemd: " + log::errno_text(-sent));
}

std::string SystemdNotifier::with_note(const std::string& status) const {
    return note_.empty() ? status : status + "; " + note_;
}

void SystemdNotifier::ready(const std::string& status) {
    if (!enabled_ || ready_sent_) return;
    ready_sent_ = true;
    last_status_ = with_note(status);
    send("READY=1\nMAINPID=" + std::to_string(getpid()) + "\nSTATUS=" + last_status_);
}

void SystemdNotifier::status(const std::string& status) {
    if (!enabled_) return;
    const std::string text = with_note(status);
    if (text == last_status_) return;
    last_status_ = text;
    send("STATUS=" + text);
}

// Before the first READY=1 systemd still waits for the start-up, and a
// READY=1 sent for the reload would end that wait too early: the reload is
// then only a change of status.
void SystemdNotifier::reloading() {
    if (!ready_sent_) return;
    send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()) + "\nSTATUS=reloading");
    last_status_ = "reloading";
}

void SystemdNotifier::reloaded(const std::string& status, std::string note) {
    note_ = std::move(note);
    if (!ready_sent_) {
        this->status(status);
        return;
    }
    last_status_ = with_note(status);
    send("READY=1\nSTATUS=" + last_status_);
}

void SystemdNotifier::stopping(const std::string& status) {
    last_status_ = with_note(status);
    send("STOPPING=1\nSTATUS=" + last_status_);
}

void SystemdNotifier::watchdog() { send("WATCHDOG=1"); }

}  // namespace foster
