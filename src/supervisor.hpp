// supervisor.hpp — the service-runner mode (`foster -c FILE`) and the "both"
// mode (`foster -c FILE -- PROGRAM`).
//
// The Supervisor owns the event loop and every service. Events (signals,
// reaped children, notify messages, timers, control requests) are turned into
// state-machine events; the Actions that come back are carried out in one
// place, apply(). Conditions that span services — which waiting service may
// start now, whether PROGRAM may start, which service may stop next during a
// shutdown — are looked at once after every batch of events, in settle().
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "config.hpp"
#include "event_loop.hpp"
#include "fd.hpp"
#include "inheritance.hpp"
#include "leftovers.hpp"
#include "notify.hpp"
#include "options.hpp"
#include "output.hpp"
#include "program.hpp"
#include "service_state.hpp"

namespace foster {

// One configured service at run time.
struct Service {
    explicit Service(ServiceConfig c);

    ServiceConfig config;
    service::StateMachine machine;
    Fd pidfd;                   // the main process, while it lives
    TimerQueue::Id timer = 0;   // the machine's one deadline
    bool wanted = false;        // desired state: up (autostart, fosterctl start)
    bool start_pending = false; // wanted, waiting for its dependencies
    bool ready = false;         // announced ready since its last spawn
    bool removing = false;      // dropped by a reload: forgotten once down
    bool stop_sent = false;     // the shutdown already asked it to stop
    std::unique_ptr<PrefixPipe> stdout_pipe, stderr_pipe;
    EventLoop::Token stdout_token = 0, stderr_token = 0;
};

// A row of `fosterctl status`.
struct ServiceStatus {
    std::string name;
    service::State state;
    std::optional<pid_t> pid;
    std::optional<Millis> uptime;
    unsigned restarts;
    std::optional<int> exit_status;
    bool ready;
};

class Supervisor {
public:
    Supervisor(const Options& options, Inheritance& inheritance, Config config, Fd signal_fd);
    ~Supervisor();

    // Runs until shutdown; returns foster's exit status.
    int run();

private:
    // Events.
    void on_signals();
    void on_children();
    void on_notify();
    void on_program_exit();

    // Turning events into state-machine input, and its output into effects.
    void handle(Service& s, const service::Actions& a);
    void spawn_service(Service& s);
    void arm_timer(Service& s, TimePoint when);
    void signal_service(Service& s, int sig);

    // Conditions across services, after every batch of events.
    void settle();
    void start_eligible();
    void maybe_start_program();
    void advance_shutdown();
    void forget_removed();

    // Shutdown and reload.
    void begin_shutdown();
    void kill_everything();
    void reload();

    // Queries.
    [[nodiscard]] bool is_ready(const Service& s) const;
    [[nodiscard]] bool dependencies_ready(const Service& s) const;
    [[nodiscard]] bool dependents_down(const Service& s) const;
    [[nodiscard]] Service* find(const std::string& name) const;
    [[nodiscard]] int exit_code() const;
    [[nodiscard]] std::string program_name() const;

    void ensure_output_pipes(Service& s);
    void drop_output_pipes(Service& s);
    void adopt(Config config);

    enum class Phase { running, stopping_services, leftovers, done };

    const Options& options_;
    Inheritance& inheritance_;
    Config config_;
    Fd signal_fd_;
    EventLoop loop_;
    Fd dev_null_;
    std::vector<std::string> base_environment_;
    std::vector<std::unique_ptr<Service>> services_;  // in start order
    std::unordered_map<pid_t, Service*> by_pid_;
    NotifySocket notify_;
    EventLoop::Token notify_token_ = 0;
    std::optional<Program> program_;
    bool program_started_ = false;
    std::optional<int> program_exit_;   // PROGRAM's status, or 127/126 when it never ran
    TimerQueue::Id program_kill_timer_ = 0;
    Leftovers leftovers_;
    Phase phase_ = Phase::running;
    std::optional<int> main_exit_;      // a main = true service's status
    bool fatal_shutdown_ = false;       // on_fatal = "shutdown" fired
    bool needed_kill_ = false;          // the shutdown had to SIGKILL something
    TimerQueue::Id shutdown_timer_ = 0;
};

// Loads the config (exit 2 with every error on failure) and runs it.
int run_services(const Options& options, Inheritance& inheritance);

}  // namespace foster
