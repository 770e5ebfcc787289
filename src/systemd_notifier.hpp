// systemd_notifier.hpp — foster as a systemd unit (Type=notify): what it
// tells systemd about itself, through libsystemd's sd_notify.
//
// Only the service-runner and "both" modes notify: in the entrypoint mode
// PROGRAM gets NOTIFY_SOCKET and speaks for itself, as it would without foster.
// The messages (sd_notify(3)):
// - READY=1 once, when every autostart service is ready or has given up (the
//   moment the "both" mode starts PROGRAM), so `systemctl start` returns and
//   never hangs to its timeout on a service that went fatal;
// - STATUS= on every change of the summary (never on a timer), so
//   `systemctl status foster` shows what is wrong at a glance;
// - RELOADING=1 with MONOTONIC_USEC= when a reload starts, READY=1 when it
//   has been applied or refused (Type=notify-reload, ExecReload=);
// - STOPPING=1 when the shutdown begins;
// - WATCHDOG=1, driven by the supervisor's timer at half of WatchdogSec=.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "service_state.hpp"

namespace foster {

// What the STATUS= line needs to know of one service.
struct ServiceSummary {
    std::string name;
    service::State state = service::State::stopped;
    std::optional<int> exit_status;  // the last run's code (128+N for a signal)
    bool exec_failed = false;        // the last start could not exec
    bool unhealthy = false;
};

// "4 running, 1 backoff (web: exit 1), 1 fatal (db)": counts by state, with
// the names of the services in trouble. Pure, for the unit tests.
std::string status_summary(const std::vector<ServiceSummary>& services);

class SystemdNotifier {
public:
    // Enabled when foster's own environment has NOTIFY_SOCKET and libsystemd
    // can be used; otherwise every call does nothing. When NOTIFY_SOCKET is
    // set but libsystemd is missing (foster-static), says so once.
    SystemdNotifier();

    [[nodiscard]] bool enabled() const { return enabled_; }
    // WatchdogSec= of this unit, when it applies to foster.
    [[nodiscard]] std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_; }

    // READY=1 with the current status; only the first call sends.
    void ready(const std::string& status);
    [[nodiscard]] bool ready_sent() const { return ready_sent_; }
    // STATUS=..., when it differs from the last one sent.
    void status(const std::string& status);
    void reloading();
    // After a reload: READY=1, and STATUS= with `note` (why it was refused,
    // or empty) shown after the summary until the next reload.
    void reloaded(const std::string& status, std::string note);
    void stopping(const std::string& status);
    void watchdog();

private:
    void send(const std::string& message);
    [[nodiscard]] std::string with_note(const std::string& status) const;

    bool enabled_ = false;
    bool ready_sent_ = false;
    std::optional<std::chrono::microseconds> watchdog_;
    std::string last_status_;
    std::string note_;  // "reload refused: ..." until the next reload
};

}  // namespace foster
