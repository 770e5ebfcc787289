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

#include <unistd.h>

#include <array>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "config.hpp"
#include "control_server.hpp"
#include "event_loop.hpp"
#include "fd.hpp"
#include "healthcheck.hpp"
#include "held_sockets.hpp"
#include "inheritance.hpp"
#include "leftovers.hpp"
#include "log_buffer.hpp"
#include "log.hpp"
#include "main_process.hpp"
#include "notify.hpp"
#include "options.hpp"
#include "output.hpp"
#include "overlap.hpp"
#include "program.hpp"
#include "service_request.hpp"
#include "service_index.hpp"
#include "service_state.hpp"
#include "spawn.hpp"
#include "syslog_source.hpp"
#include "systemd_notifier.hpp"

namespace foster {

// One configured service at run time.
struct Service {
    // `policy`: the machine's, policy_of(c), perhaps shared with other services.
    Service(ServiceConfig c, std::shared_ptr<const service::Policy> policy);

    ServiceConfig config;
    service::StateMachine machine;
    // (Within each group below, the members are ordered so that no padding
    // is left between them: ten thousand services hold ten thousand of these.)
    TimerQueue::Id timer = 0;   // the machine's one deadline
    // The last spawn failure logged, and how many identical ones followed it
    // unlogged: a service retrying into EAGAIN says so once, not per attempt.
    HeapOptional<std::string> spawn_failure;  // none: no failure in a row
    // Its output, when foster reads it (output.hpp); kept across runs.
    std::unique_ptr<ServiceOutput> output;
    std::array<EventLoop::Token, 2> output_tokens{};
    // While start_pending: a dependency found not ready, so that the next
    // settle asks that one alone (start_eligible). Forgotten when the
    // services change (Supervisor::index()).
    const Service* blocked_by = nullptr;
    ServiceSockets sockets;     // held for as long as the service is in the config
    MainProcess main_process;   // while it lives (main_process.hpp)
    int spawn_failures_unlogged = 0;
    bool wanted = false;        // desired state: up (autostart, fosterctl start)
    bool start_pending = false; // wanted, waiting for its dependencies
    bool ready = false;         // announced ready since its last spawn
    bool removing = false;      // dropped by a reload: forgotten once down
    bool stop_sent = false;     // the shutdown already asked it to stop
    bool journal_warned = false; // said once that its journal output fell back to inherit

    // The healthcheck, when the config has one: probes never overlap; the
    // timer is the next probe's start, or the running probe's timeout.
    HealthTracker health;
    TimerQueue::Id probe_timer = 0;
    // A probe that cannot even be forked (EAGAIN, EMFILE) is foster's
    // trouble, not a verdict on the service: not counted, logged once.
    HeapOptional<std::string> probe_spawn_failure;
    pid_t probe_pid = -1;
    int probe_spawn_failures_unlogged = 0;
    bool probe_timed_out = false;

    // Hooks (supervisor_hooks.cpp), each until reaped.
    TimerQueue::Id pre_start_timer = 0;
    TimerQueue::Id post_stop_timer = 0;
    std::optional<ExitStatus> last_exit; // of the main process, for post_stop
    pid_t pre_start_pid = -1;
    pid_t stop_command_pid = -1;
    pid_t post_stop_pid = -1;
    bool pre_start_timed_out = false;
    bool start_after_post_stop = false;  // a start came while post_stop ran
    bool run_active = false;             // a process was spawned and its run has not ended

    // An overlapping restart (overlap.hpp, supervisor_overlap.cpp): the run
    // beside the machine's, until it is gone. The service is down only
    // when both are.
    HeapOptional<service::SideRun> side;
    TimerQueue::Id side_timer = 0;       // its stop_timeout
    TimerQueue::Id overlap_timer = 0;    // overlap_timeout, while the old run serves
    HeapOptional<HealthTracker> serving_health;  // the old run's, back if the new one is abandoned
    HeapOptional<std::string> overlap_failure;   // why the last overlapping restart failed
    MainProcess side_process;            // its main process, while it lives
    pid_t side_stop_command_pid = -1;
    bool overlap_timed_out = false;

    // `schedule` (supervisor_schedule.cpp): the timer of the next scheduled
    // start, armed while foster runs; next_run is that start on the wall
    // clock (for fosterctl status), next_run_at on the loop's clock.
    TimerQueue::Id schedule_timer = 0;
    std::optional<WallClock::time_point> next_run;
    TimePoint next_run_at{};

    [[nodiscard]] bool down() const { return machine.is_down() && !side; }
};

class Supervisor final : public ControlHandler {
public:
    Supervisor(const Options& options, Inheritance& inheritance, Config config, Fd signal_fd,
               SocketTable sockets = {}, SystemdSockets from_systemd = {});
    ~Supervisor();
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    // Runs until shutdown; returns foster's exit status.
    int run();

    // ControlHandler: what fosterctl asks for (supervisor_control.cpp).
    control::Response handle_request(const control::Request& request) override;
    std::optional<control::Response> wait_result(const control::Request& request) override;
    control::Response wait_timed_out(const control::Request& request) override;

private:
    // Events.
    void on_signals();
    // `signalled`: the children the SIGCHLDs just read name (reaped by pid).
    void on_children(const std::vector<pid_t>& signalled);
    // Every terminated child, found by one pass of the kernel over all of
    // foster's children: at once, or when the last pass is 50 ms old.
    void scan_for_children(std::vector<ReapedChild>& reaped, TimePoint now);
    void handle_reaped(const std::vector<ReapedChild>& reaped, TimePoint now);
    void on_notify();
    void on_program_exit();

    // Turning events into state-machine input, and its output into effects.
    void handle(Service& s, const service::Actions& a);
    void note_spawn_failure(Service& s, const std::string& text);
    void end_spawn_failures(Service& s, const char* outcome);
    void spawn_service(Service& s);
    // The exec of a service's process, read as an event (supervisor_exec.cpp):
    // spawn_service does not wait for it, so services start in parallel.
    void watch_exec(StartingChild child);
    void on_exec_report(pid_t pid, bool exited);
    void make_room_for_an_exec();
    void wait_for_an_exec();
    void end_start_up_burst();
    void arm_timer(Service& s, TimePoint when);
    void signal_service(Service& s, int sig);
    // Hooks (supervisor_hooks.cpp). start_run: pre_start, if any, then the
    // spawn. run_stop_command: false when the service has none or it could
    // not run, and the stop signal is to be sent instead. reap_hook: true
    // when `pid` was a hook's.
    std::optional<pid_t> run_hook(Service& s, const char* what, const std::vector<std::string>& argv,
                                  const std::vector<std::pair<std::string, std::string>>& extra_environment);
    void start_run(Service& s);
    void on_pre_start_exit(Service& s, const ExitStatus& status);
    void cancel_pre_start(Service& s);
    bool run_stop_command(Service& s);
    void kill_stop_command(Service& s);
    bool reap_hook(pid_t pid, const ExitStatus& status);
    void run_post_stop(Service& s);
    void on_post_stop_exit(Service& s, const ExitStatus& status);
    void kill_hooks(Service& s);

    // Schedules (supervisor_schedule.cpp): arm the next start, start (or
    // skip, when a run is still going) when it comes.
    void arm_schedule(Service& s);
    void cancel_schedule(Service& s);
    void on_schedule(Service& s);

    // Conditions across services, after every batch of events.
    void settle();
    void start_eligible();
    void maybe_start_program();
    [[nodiscard]] std::optional<std::vector<std::string>> autostart_given_up() const;
    void advance_shutdown();
    void forget_removed();

    // Shutdown and reload. reload() returns the config's errors when it
    // refused the new file.
    void begin_shutdown();
    void kill_everything();
    std::vector<ConfigError> reload();

    // systemd (Type=notify): READY=1 once the autostart services have
    // settled, STATUS= whenever the summary changes, the watchdog's pings.
    void report_to_systemd();
    [[nodiscard]] std::string status_text() const;
    void schedule_watchdog();

    // Healthchecks (healthcheck probes run with the service's user, env, cwd).
    void on_run_changed(Service& s, const service::Actions& a);
    void schedule_probe(Service& s, TimePoint when);
    void run_probe(Service& s);
    void on_probe_exit(Service& s, const ExitStatus& status);
    void stop_probe(Service& s);

    // Overlapping restarts (supervisor_overlap.cpp).
    control::Response restart_overlapping(const std::vector<std::string>& names);
    bool begin_overlap(Service& s);
    void advance_overlaps();
    void drain_old(Service& s);
    void abandon_new(Service& s, const std::string& why, bool new_main_gone);
    void apply_side(Service& s, const service::SideRun::Step& step);
    bool run_side_stop_command(Service& s);
    bool reap_side(pid_t pid, const ExitStatus& status);
    bool new_run_failed(Service& s, const ExitStatus& status);
    void on_run_stopping(Service& s, const service::Actions& a);
    void check_side_groups();
    void forget_side(Service& s);
    [[nodiscard]] bool new_run_ready(const Service& s) const;

    // Control requests (supervisor_control.cpp).
    void request_start(Service& s, bool restart, TimePoint now);
    control::StatusRow status_row(const Service& s, TimePoint now) const;
    [[nodiscard]] bool healthy_enough(const Service& s) const;
    std::optional<std::string> unknown_name(const std::vector<std::string>& names) const;
    // `fosterctl reload NAME...`: each service's reload_signal to its main process.
    control::Response reload_services(const std::vector<std::string>& names);
    // One per command of handle_request; names are expanded and known.
    control::Response answer_status(const std::vector<std::string>& names) const;
    control::Response answer_start(const control::Request& request);
    control::Response answer_stop(const std::vector<std::string>& names);
    control::Response answer_signal(const std::vector<std::string>& names, int sig);
    control::Response answer_reload();
    control::Response answer_reopen();
    control::Response answer_shutdown();
    control::Response answer_check(const std::vector<std::string>& names) const;
    [[nodiscard]] std::string given_up_state(const Service& s) const;
    [[nodiscard]] const Service* given_up_dependency(const Service& s) const;

    // Queries.
    [[nodiscard]] bool is_ready(const Service& s) const;
    [[nodiscard]] static bool gave_up(const Service& s);
    // True when every dependency of `s` is ready; else `blocker` is the first
    // one found not ready (nullptr when a name has no service at all).
    [[nodiscard]] bool dependencies_ready(const Service& s, const Service*& blocker) const;
    [[nodiscard]] Service* find(const std::string& name) const;
    // The services by name (service_index.hpp), made again when stale:
    // services_changed() after any change to services_ or to a `removing`.
    [[nodiscard]] const ServiceIndex& index() const;
    void services_changed() { index_stale_ = true; }
    // fosterctl's names with a table's name replaced by its instances
    // (instances.hpp), in the order given; unknown names are kept as given.
    [[nodiscard]] std::vector<std::string> expand_names(const std::vector<std::string>& names) const;
    [[nodiscard]] int exit_code() const;
    [[nodiscard]] std::string program_name() const;

    SpawnRequest request_for(const Service& s, const std::vector<std::string>& argv, const ServiceStdio& stdio) const;
    void ensure_output(Service& s);
    void drop_output(Service& s);
    // `fosterctl reopen`: every output file foster writes; what failed, or "".
    std::string reopen_output_files();
    // The in-memory recent output (supervisor_logs.cpp): each service's ring
    // sized from the config, and its output pipeline keeping its lines there.
    void configure_logs();
    void keep_output(Service& s);
    // /dev/log (syslog_source.hpp): bound when `syslog` says so.
    void open_syslog();
    void deliver_syslog(const SyslogMessage& message, std::int64_t time_ms);
    void adopt(Config config);
    void hand_out_sockets(SocketTable& table);
    [[nodiscard]] std::set<std::string> unix_paths_in_use() const;
    int reopen_sockets(Service& s);
    void close_stopped_sockets();

    enum class Phase { running, stopping_services, leftovers, done };

    const Options& options_;
    Inheritance& inheritance_;
    Config config_;
    Fd signal_fd_;
    EventLoop loop_;
    // Where prefix lines go: foster's stdout and stderr, never blocking the
    // loop. stderr's is the one foster's own log writes through (log.hpp).
    NonblockingWriter stdout_writer_{STDOUT_FILENO};
    NonblockingWriter& stderr_writer_ = log::stderr_writer();
    WriterAttachment stdout_attachment_{stdout_writer_, loop_};
    WriterAttachment stderr_attachment_{stderr_writer_, loop_};
    LogBuffer log_buffer_;  // before control_, which follows it
    Fd dev_null_;
    std::vector<std::string> base_environment_;
    std::vector<std::unique_ptr<Service>> services_;  // in start order
    mutable ServiceIndex index_;
    mutable bool index_stale_ = true;
    std::unordered_map<pid_t, Service*> by_pid_;
    std::unordered_map<pid_t, Service*> by_probe_pid_;
    // Hooks started and not yet reaped (run_hook): a reaped pid not among them
    // is no hook, without a look at every service.
    std::unordered_set<pid_t> hook_pids_;
    std::unordered_map<pid_t, Service*> by_side_pid_;  // main processes of side runs
    // Services' processes whose exec is under way, each with the memory its
    // child still reads and the watch on its report pipe.
    struct ExecInFlight {
        StartingChild child;
        EventLoop::Token token = 0;
    };
    std::unordered_map<pid_t, ExecInFlight> execs_in_flight_;
    bool start_up_burst_over_ = false;  // its kept child stacks were released
    std::unique_ptr<ControlServer> control_;
    std::unique_ptr<SyslogSource> syslog_;
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
    // The last pass over all children, and the one waiting for its turn.
    TimePoint last_children_scan_{};
    TimerQueue::Id children_scan_timer_ = 0;
    SystemdNotifier systemd_;
    SystemdSockets from_systemd_;  // what `listen = "systemd:NAME"` refers to
};

// Loads the config (exit 2 with every error on failure) and runs it.
int run_services(const Options& options, Inheritance& inheritance);

}  // namespace foster
