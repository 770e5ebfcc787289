// supervisor.cpp — see supervisor.hpp.
//
// Error policy (catatonit's): set-up may fail loudly; once services run,
// nothing here makes foster exit except a shutdown. A failed spawn is the
// state machine's spawn_failed (retried with backoff), a failed reload
// changes nothing, a failed log write is dropped.
#include "supervisor.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/epoll.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cerrno>
#include <set>
#include <string_view>
#include <unordered_map>
#include <system_error>

#include "contained.hpp"
#include "file_trust.hpp"
#include "log.hpp"
#include "nofile_limit.hpp"
#include "reaper.hpp"
#include "service_request.hpp"
#include "signal_names.hpp"
#include "signals.hpp"
#include "spawn.hpp"
#include "standard_streams.hpp"
#include "systemd.hpp"

namespace foster {

namespace {

using service::State;

std::string control_socket_of(const Config& config) {
    // The effective uid, as fosterctl's: it owns the socket, it is what a
    // peer's SO_PEERCRED reports, and it decides whether /run is writable.
    return control::socket_path(std::nullopt, std::getenv("FOSTER_SOCKET"), config.control_socket, geteuid(),
                                std::getenv("XDG_RUNTIME_DIR"));
}

bool group_is_empty(pid_t pgid) { return kill(-pgid, 0) != 0 && errno == ESRCH; }

}  // namespace

Service::Service(ServiceConfig c, std::shared_ptr<const service::Policy> policy)
    : config(std::move(c)), machine(config.name, std::move(policy)) {}

Supervisor::Supervisor(const Options& options, Inheritance& inheritance, Config config, Fd signal_fd,
                       SocketTable sockets, SystemdSockets from_systemd)
    : options_(options),
      inheritance_(inheritance),
      signal_fd_(std::move(signal_fd)),
      dev_null_(::open("/dev/null", O_RDWR | O_CLOEXEC)),
      base_environment_(service_environment(inheritance.environment)),
      leftovers_(loop_, inheritance.pid == 1) {
    // Without it, `null` outputs and every service's stdin would silently
    // be foster's own descriptors: refuse to start instead.
    if (!dev_null_) throw std::system_error(errno, std::generic_category(), "cannot open /dev/null");
    if (!options.program.empty()) {
        // foster is the unit's main process and speaks to systemd for the
        // whole "both" mode; PROGRAM notifying too would claim readiness twice
        // (and NotifyAccess=main would refuse it).
        std::erase_if(inheritance.environment, [](const std::string& e) {
            return e.starts_with("NOTIFY_SOCKET=") || e.starts_with("WATCHDOG_");
        });
        program_.emplace(options, inheritance);
    }
    from_systemd_ = std::move(from_systemd);
    adopt(std::move(config));
    hand_out_sockets(sockets);
}

// Each service (not one a reload removed) takes its sockets from `table`.
void Supervisor::hand_out_sockets(SocketTable& table) {
    for (auto& s : services_) {
        if (s->removing) continue;
        const auto it = table.find(s->config.name);
        s->sockets = it == table.end() ? ServiceSockets{} : std::move(it->second);
    }
}

std::set<std::string> Supervisor::unix_paths_in_use() const {
    std::set<std::string> paths;
    for (const auto& s : services_)
        for (const auto& h : s->sockets)
            if (!s->removing && h.spec.address.family == ListenAddress::Family::unix_path) paths.insert(h.spec.address.path);
    return paths;
}

// close_on_stop sockets closed by a stop are bound again at the next start.
// Returns 0, or the errno of the bind that failed (then the start fails and
// is retried like any failed spawn).
int Supervisor::reopen_sockets(Service& s) {
    for (auto& h : s.sockets) {
        if (h.fd) continue;
        if (const std::string why = rebind(h, from_systemd_); !why.empty()) {
            const int error = errno != 0 ? errno : EADDRNOTAVAIL;
            log::error(s.config.name + ": socket '" + h.spec.name + "': " + h.spec.listen + ": " + why);
            return error;
        }
    }
    return 0;
}

// A service that is stopped and not wanted lets go of its close_on_stop sockets.
void Supervisor::close_stopped_sockets() {
    for (auto& s : services_) {
        if (s->wanted || !s->down()) continue;
        for (auto& h : s->sockets) {
            if (!h.spec.close_on_stop || !h.fd) continue;
            h.fd.reset();
            if (h.spec.address.family == ListenAddress::Family::unix_path) unlink(h.spec.address.path.c_str());
        }
    }
}

Supervisor::~Supervisor() {
    // A child still before its exec reads that memory: it is not freed under it.
    for (auto& [pid, in_flight] : execs_in_flight_) (void)in_flight.child.memory.release();
    for (auto& s : services_) {
        drop_output(*s);
        unlink_unused_paths(s->sockets, {});  // foster is going: nobody answers there any more
    }
}

// Takes a new config: creates services it adds, orders all by start order.
// Used at start-up and by reload (which handles changed/removed services first).
void Supervisor::adopt(Config config) {
    // The services kept, by name: a reload of ten thousand services must not
    // look for each of them among all the others.
    std::unordered_map<std::string_view, std::unique_ptr<Service>*> kept;
    for (auto& s : services_)
        if (!s->removing) kept.emplace(s->config.name, &s);
    std::vector<std::unique_ptr<Service>> ordered;
    ordered.reserve(config.start_order.size() + services_.size());
    // Services configured alike share one Policy (service_state.hpp): a
    // service whose policy equals the one before it takes that one.
    std::shared_ptr<const service::Policy> policy;
    for (std::size_t index : config.start_order) {
        ServiceConfig& c = config.services[index];
        if (const auto it = kept.find(c.name); it != kept.end()) {
            ordered.push_back(std::move(*it->second));
            continue;
        }
        if (auto own = policy_of(c); !policy || *policy != own)
            policy = std::make_shared<const service::Policy>(std::move(own));
        // Moved, not copied: a service's config lives in its Service only.
        auto s = std::make_unique<Service>(std::move(c), policy);
        s->wanted = s->start_pending = s->config.autostart;
        arm_schedule(*s);
        ordered.push_back(std::move(s));
    }
    for (auto& s : services_)  // removed by a reload, still stopping
        if (s) ordered.push_back(std::move(s));
    services_ = std::move(ordered);
    services_changed();
    config_ = std::move(config);
    // Taken by the Services above (or already theirs): freed, not just emptied.
    std::vector<ServiceConfig>().swap(config_.services);
    std::vector<std::size_t>().swap(config_.start_order);
    const bool needs_notify = std::any_of(services_.begin(), services_.end(),
                                          [](const auto& s) { return s->config.type == ServiceType::notify; });
    if (needs_notify && !notify_.valid()) {
        notify_ = NotifySocket::open();
        if (notify_.valid()) notify_token_ = loop_.watch(notify_.fd(), EPOLLIN, [this](std::uint32_t) { on_notify(); });
    }
    configure_logs();
    // Reading the file took about twice what the services keep (the parsed
    // document, the configs before they moved): give the freed pages back,
    // or they stay in foster's RSS for good, between the chunks kept.
    malloc_trim(0);
}

int Supervisor::run() {
    const std::string socket = control_socket_of(config_);
    ControlOpenFailure failure;
    control_ = ControlServer::open(socket, loop_, *this, failure);
    if (!control_) {
        // A live foster on the same socket is a mistake worth refusing; any
        // other failure leaves foster running its services without control.
        if (failure.another_foster_listens) {
            log::fatal(failure.message);
            return 1;
        }
        log::error(failure.message + "; fosterctl will not reach this foster");
    }
    if (control_) control_->serve_logs(log_buffer_);
    open_syslog();
    loop_.watch(signal_fd_.get(), EPOLLIN, [this](std::uint32_t) { on_signals(); });
    schedule_watchdog();
    if (inheritance_.pid == 1 && chdir("/") != 0) log::error("cannot change directory to /: " + log::errno_text(errno));
    settle();
    while (phase_ != Phase::done) {
        loop_.run_once();  // each handler runs contained (contained.hpp)
        run_contained("settling the services", [this] { settle(); });
    }
    for (auto& s : services_) drop_output(*s);
    if (syslog_) syslog_->drain();
    syslog_.reset();
    // The last lines get a moment to go out; a reader that is stuck keeps
    // them, not foster.
    stdout_writer_.finish(std::chrono::seconds(1));
    stderr_writer_.finish(std::chrono::seconds(1));
    control_.reset();
    return exit_code();
}

// ---------------------------------------------------------------- events

void Supervisor::on_signals() {
    bool child_event = false;
    std::vector<pid_t> signalled;
    for (const auto& info : read_signals(signal_fd_.get())) {
        const int sig = info.number;
        if (sig == SIGCHLD) {
            child_event = true;
            if (info.code == CLD_EXITED || info.code == CLD_KILLED || info.code == CLD_DUMPED)
                signalled.push_back(info.sender);
        } else if (caused_by_foster(info, inheritance_.pid)) {
            log::debug("ignoring " + signal_name(sig) + " caused by foster itself");
        } else if (program_ && program_->running()) {
            program_->forward(sig);  // "both" mode: PROGRAM is treated as in entrypoint mode
        } else if (sig == SIGTERM || sig == SIGINT) {
            if (phase_ == Phase::running) {
                log::info("received " + signal_name(sig) + "; stopping every service");
                begin_shutdown();
            } else {
                log::info("received " + signal_name(sig) + " again; killing everything left");
                kill_everything();
            }
        } else if (sig == SIGHUP && !program_) {
            (void)reload();
        } else {
            log::info("ignoring " + signal_name(sig));
        }
    }
    if (child_event) on_children(signalled);
}

// The child a SIGCHLD names is reaped by its pid: one waitid that looks at
// that process alone. A SIGCHLD that came while another was still queued was
// merged into it, and its child is found only by a pass over all children,
// which costs the kernel a look at each (wait_consider_task): with 10,000
// services and one of them crash-looping, a pass per exit took foster 2.5 ms
// a restart, 60 % of a core. So that pass runs at once when the last one is
// 50 ms old, else 50 ms after it: a child whose SIGCHLD was merged stays a
// zombie 50 ms at most, and a lone exit is handled at once either way.
void Supervisor::on_children(const std::vector<pid_t>& signalled) {
    const TimePoint now = Clock::now();
    std::vector<ReapedChild> reaped;
    for (pid_t pid : signalled)
        if (auto child = reap_if_terminated(pid)) reaped.push_back(*child);
    scan_for_children(reaped, now);
    handle_reaped(reaped, now);
}

void Supervisor::scan_for_children(std::vector<ReapedChild>& reaped, TimePoint now) {
    constexpr auto scan_interval = std::chrono::milliseconds(50);
    if (children_scan_timer_ != 0) return;  // one is due already
    if (last_children_scan_ != TimePoint{} && now - last_children_scan_ < scan_interval) {
        children_scan_timer_ = loop_.timers().schedule(last_children_scan_ + scan_interval, [this] {
            children_scan_timer_ = 0;
            const TimePoint when = Clock::now();
            std::vector<ReapedChild> found;
            scan_for_children(found, when);
            handle_reaped(found, when);
        });
        return;
    }
    last_children_scan_ = now;
    for (auto& child : reap_terminated_children()) reaped.push_back(child);
}

void Supervisor::handle_reaped(const std::vector<ReapedChild>& reaped, TimePoint now) {
    // Their pids may be recycled from now on: no service signals one any more.
    for (const auto& child : reaped)
        if (const auto it = by_pid_.find(child.pid); it != by_pid_.end()) it->second->main_process.reset();
        else if (const auto side = by_side_pid_.find(child.pid); side != by_side_pid_.end())
            side->second->side_process.reset();
    bool orphans = false;
    for (const auto& child : reaped) {
        if (program_ && program_->on_reaped(child)) {
            on_program_exit();
            continue;
        }
        if (const auto probe = by_probe_pid_.find(child.pid); probe != by_probe_pid_.end()) {
            Service& s = *probe->second;
            by_probe_pid_.erase(probe);
            on_probe_exit(s, child.exit);
            continue;
        }
        if (reap_hook(child.pid, child.exit)) continue;
        if (reap_side(child.pid, child.exit)) continue;
        // Its exec's outcome first (the pipe closed when it exited).
        if (execs_in_flight_.contains(child.pid)) on_exec_report(child.pid, true);
        const auto it = by_pid_.find(child.pid);
        if (it == by_pid_.end()) {  // an orphan foster adopted: reaped, nothing more
            orphans = true;
            continue;
        }
        Service& s = *it->second;
        by_pid_.erase(it);
        if (new_run_failed(s, child.exit)) continue;  // overlapping restart: the old run keeps serving
        s.last_exit = child.exit;
        handle(s, s.machine.process_exited(now, child.exit, group_is_empty(child.pid)));
    }
    // Processes a service left behind in its group are orphans of foster's:
    // when one was reaped, look whether any group emptied (a pass over every
    // service, so not for every exit).
    if (orphans)
        for (auto& s : services_) {
            if (!s->machine.waiting_for_group()) continue;
            const auto pgid = s->machine.process_group();
            if (!pgid || group_is_empty(*pgid)) handle(*s, s->machine.group_empty(now));
        }
    check_side_groups();
    if (phase_ == Phase::leftovers && leftovers_.after_reaping()) phase_ = Phase::done;
}

void Supervisor::on_notify() {
    notify_.drain([this](const NotifyMessage& m) {
        Service* target = nullptr;
        if (const auto it = by_pid_.find(m.sender); it != by_pid_.end()) {
            target = it->second;
        } else {
            const auto sender = proc_stat(m.sender);
            for (auto& s : services_)
                if (sender && s->machine.process_group() == sender->session) target = s.get();
        }
        if (target == nullptr) {
            log::debug("notify message from pid " + std::to_string(m.sender) + ", not a service's: ignored");
            return;
        }
        if (m.status) log::debug(target->config.name + ": status: " + *m.status);
        if (m.ready) handle(*target, target->machine.ready_notified(Clock::now()));
    });
}

void Supervisor::on_program_exit() {
    program_exit_ = program_->exit_code();
    loop_.timers().cancel(program_kill_timer_);
    begin_shutdown();
}

// ---------------------------------------------------------- state machine

void Supervisor::handle(Service& s, const service::Actions& a) {
    const log::About about(s.config.name);
    // While spawns keep failing the same way, the retries are not news: the
    // first failure was logged, and the end of the series will be.
    const bool retry = (a.from == State::backoff && a.to == State::starting) ||
                       (a.from == State::starting && a.to == State::backoff);
    if (a.from != a.to && a.to != State::starting && a.to != State::backoff) end_spawn_failures(s, "stopped retrying");
    if (!a.message.empty()) {
        if (retry && s.spawn_failures_unlogged > 0) log::debug(a.message);
        else log::info(a.message);
    }
    if (a.timer == service::Actions::Timer::cancel) loop_.timers().cancel(std::exchange(s.timer, 0));
    if (a.timer == service::Actions::Timer::arm) arm_timer(s, a.deadline);
    if (a.send_signal != 0) {
        if (a.send_signal == SIGKILL && phase_ != Phase::running) needed_kill_ = true;
        if (a.send_signal == SIGKILL) kill_stop_command(s);
        if (a.send_signal == SIGKILL || !run_stop_command(s)) signal_service(s, a.send_signal);
    }
    if (a.from == State::stopping && a.to != State::stopping) kill_stop_command(s);
    on_run_stopping(s, a);  // an overlapping restart's other run stops with the service
    if (a.to != State::starting) cancel_pre_start(s);
    // The run is over (main process gone, group empty): to a down state, to
    // backoff, or straight to the next start after a restart's stop.
    if (a.from != a.to && s.run_active && a.to != State::running && a.to != State::stopping) run_post_stop(s);
    if (a.from != a.to && a.to != State::starting && a.to != State::running && a.to != State::stopping) {
        // The run is over: a last line without its newline is still a line.
        if (s.output) s.output->flush_partial();
    }
    if (a.became_ready) s.ready = true;
    on_run_changed(s, a);
    if (a.went_fatal && s.config.on_fatal == OnFatal::shutdown) {
        log::error(s.config.name + " is fatal and has on_fatal = \"shutdown\"; stopping everything");
        fatal_shutdown_ = true;
        begin_shutdown();
    }
    if (a.went_fatal && s.config.main && !a.finished) {
        // A main service that cannot run ends foster like PROGRAM would: 127/126
        // for an exec failure, else its last status (or 1).
        const auto exec_errno = s.machine.exec_error();
        main_exit_ = exec_errno ? exit_status_for_exec_errno(*exec_errno) : s.machine.exit_status().value_or(1);
        log::error(s.config.name + " is the main service and went fatal; stopping everything");
        begin_shutdown();
    }
    if (a.finished) {
        log::info(s.config.name + " is the main service and exited with status " + std::to_string(*a.finished) +
                  "; stopping everything");
        if (!main_exit_) main_exit_ = *a.finished;
        begin_shutdown();
    }
    if (a.spawn) start_run(s);
}

void Supervisor::arm_timer(Service& s, TimePoint when) {
    loop_.timers().cancel(s.timer);
    Service* target = &s;
    s.timer = loop_.timers().schedule(when, [this, target] {
        target->timer = 0;
        handle(*target, target->machine.timer_fired(Clock::now()));
    });
}

// To the process group (the whole service), and to the main process through
// its pid in case it left the group. A stop signal is followed by SIGCONT
// (as systemd and foster's leftovers do): a stopped process that handles it
// could not act on it otherwise, and would wait for the SIGKILL.
void Supervisor::signal_service(Service& s, int sig) {
    const auto pgid = s.machine.process_group();
    // Once, not twice: a program that takes a second SIGINT or SIGTERM as
    // "quit now" (many do) must not lose its graceful stop to foster's
    // aim at both its group and itself.
    const bool main_apart = s.main_process && (!pgid || getpgid(s.main_process.pid) != *pgid);
    for (const int each : {sig, SIGCONT}) {
        if (pgid) kill(-*pgid, each);
        if (main_apart) send_signal(s.main_process, each);
        if (sig == SIGKILL || sig == SIGCONT) break;
    }
}

void Supervisor::spawn_service(Service& s) {
    const log::About about(s.config.name);
    const TimePoint now = Clock::now();
    ensure_output(s);
    if (s.output) {
        if (const std::string why = s.output->prepare(); !why.empty()) {
            const int error = errno != 0 ? errno : EIO;
            note_spawn_failure(s, why);
            handle(s, s.machine.spawn_failed(now, error));
            return;
        }
    }
    // `journal`: a stream of its own to journald, opened for each run; without
    // journald the service still starts, with foster's descriptor.
    Fd out_journal, err_journal;
    for (auto [target, stream] : {std::pair{&*s.config.stdout_target, &out_journal}, {&*s.config.stderr_target, &err_journal}}) {
        if (target->kind != OutputTarget::Kind::journal) continue;
        *stream = systemd::journal_stream(s.config.name, LOG_INFO);
        if (!*stream && !std::exchange(s.journal_warned, true))
            log::error(s.config.name + ": cannot reach the journal (" +
                       (systemd::available() ? log::errno_text(errno) : systemd::unavailable_reason()) +
                       "); its output goes to foster's own instead");
    }
    ServiceStdio stdio{.in = dev_null_.get()};
    auto target_fd = [&](const OutputTarget& t, const Fd& journal, Stream stream) -> int {
        const int piped = s.output ? s.output->write_fd(stream) : -1;
        switch (t.kind) {
            case OutputTarget::Kind::inherit: return -1;
            case OutputTarget::Kind::null: return piped >= 0 ? piped : dev_null_.get();  // piped: kept for logs
            case OutputTarget::Kind::prefix: return piped;
            case OutputTarget::Kind::file: return piped;         // -1: stdio.*_path, opened by the child
            case OutputTarget::Kind::journal: return journal.valid() ? journal.get() : -1;
            case OutputTarget::Kind::same_as_stdout: return -1;  // stdio.err_copies_out
        }
        return -1;
    };
    stdio.out = target_fd(*s.config.stdout_target, out_journal, Stream::out);
    stdio.err = target_fd(*s.config.stderr_target, err_journal, Stream::err);
    // `stdout = "/path"` files foster does not write itself are opened by the
    // child for each run (so a rotated log is picked up), as the service's user.
    if (s.config.stdout_target->kind == OutputTarget::Kind::file && stdio.out < 0)
        stdio.out_path = s.config.stdout_target->path;
    if (s.config.stderr_target->kind == OutputTarget::Kind::file && stdio.err < 0)
        stdio.err_path = s.config.stderr_target->path;
    stdio.err_copies_out = s.config.stderr_target->kind == OutputTarget::Kind::same_as_stdout;
    s.ready = false;
    if (const int error = reopen_sockets(s); error != 0) {
        handle(s, s.machine.spawn_failed(now, error));
        return;
    }
    SpawnRequest request = request_for(s, s.config.argv, stdio);
    pass_sockets(s.sockets, request);
    log_buffer_.new_run(s.config.name);
    make_room_for_an_exec();
    StartResult result = spawn_without_waiting(std::move(request));
    if (!result.child) {
        note_spawn_failure(s, describe_spawn_failure(result.failure.stage, request, result.failure.detail) + ": " +
                                  log::errno_text(result.failure.error));
        handle(s, s.machine.spawn_failed(now, result.failure.error));
        return;
    }
    const pid_t pid = result.child->pid;
    end_spawn_failures(s, "started");
    by_pid_[pid] = &s;
    s.run_active = true;
    s.last_exit.reset();
    s.main_process = MainProcess{pid};
    handle(s, s.machine.spawned(now, pid));
    watch_exec(std::move(*result.child));  // exec_succeeded or exec_failed comes from there
}

void Supervisor::note_spawn_failure(Service& s, const std::string& text) {
    const log::About about(s.config.name);
    if (text == s.spawn_failure) {
        ++s.spawn_failures_unlogged;
        log::debug(s.config.name + ": " + text + " (again)");
        return;
    }
    end_spawn_failures(s, "failed differently");
    s.spawn_failure = text;
    log::error(s.config.name + ": " + text);
}

// The end of a series of identical spawn failures: how many went unlogged.
void Supervisor::end_spawn_failures(Service& s, const char* outcome) {
    if (s.spawn_failures_unlogged > 0)
        log::info(s.config.name + ": " + outcome + " after " + std::to_string(s.spawn_failures_unlogged) +
                  " more failed attempt(s) (" + s.spawn_failure.value_or("") + ")");
    s.spawn_failure.reset();
    s.spawn_failures_unlogged = 0;
}

SpawnRequest Supervisor::request_for(const Service& s, const std::vector<std::string>& argv,
                                     const ServiceStdio& stdio) const {
    SpawnRequest r = service_spawn_request(s.config, base_environment_, notify_.address(), inheritance_.signals.ignored,
                                           stdio);
    r.argv = argv;
    r.pidfd = false;  // every child of the service runner is held by its pid
    return r;
}

// ---------------------------------------------------------- healthchecks

// A run that reaches `running` gets its first probe one interval later; a run
// that leaves `running` loses its probe (killed, its result ignored).
void Supervisor::on_run_changed(Service& s, const service::Actions& a) {
    if (!s.config.healthcheck || a.from == a.to) return;
    if (a.to == State::running) {
        s.health.reset(s.machine.started_at().value_or(Clock::now()));
        schedule_probe(s, Clock::now() + s.config.healthcheck->interval);
    } else if (a.from == State::running) {
        stop_probe(s);
    }
}

void Supervisor::schedule_probe(Service& s, TimePoint when) {
    loop_.timers().cancel(s.probe_timer);
    Service* target = &s;
    s.probe_timer = loop_.timers().schedule(when, [this, target] {
        target->probe_timer = 0;
        run_probe(*target);
    });
}

void Supervisor::run_probe(Service& s) {
    const log::About about(s.config.name);
    const HealthCheck& check = *s.config.healthcheck;
    const ServiceStdio quiet{.in = dev_null_.get(), .out = dev_null_.get(), .err = dev_null_.get()};
    SpawnRequest request = request_for(s, check.argv, quiet);
    // The process it checks: during an overlapping restart a probe of the
    // shared socket may reach either process, MAINPID tells them apart.
    // In place: one copy of the environment per probe, not two.
    if (const auto main_pid = s.machine.pid()) {
        std::erase_if(request.envp, [](const std::string& e) { return e.starts_with("MAINPID="); });
        request.envp.push_back("MAINPID=" + std::to_string(*main_pid));
    }
    SpawnResult result = spawn(request);
    const pid_t pid = result.child ? result.child->pid : result.failure.pid;
    const std::string failure =
        result.child ? std::string()
                     : describe_spawn_failure(result.failure.stage, check.argv.front(),
                                              s.config.working_directory.value_or(""), result.failure.detail) +
                           ": " + log::errno_text(result.failure.error);
    if (pid < 0) {  // not even forked: try again at the next interval, counting nothing
        if (failure == s.probe_spawn_failure) {
            ++s.probe_spawn_failures_unlogged;
        } else {
            log::error(s.config.name + ": healthcheck: " + failure);
            s.probe_spawn_failure = failure;
            s.probe_spawn_failures_unlogged = 0;
        }
        schedule_probe(s, Clock::now() + check.interval);
        return;
    }
    if (s.probe_spawn_failure)
        log::info(s.config.name + ": healthcheck: a probe started after " +
                  std::to_string(s.probe_spawn_failures_unlogged) + " more failed attempt(s) (" +
                  *s.probe_spawn_failure + ")");
    s.probe_spawn_failure.reset();
    s.probe_spawn_failures_unlogged = 0;
    // Forked, but the exec failed: a failed probe (127), reaped like any other.
    if (!result.child) log::error(s.config.name + ": healthcheck: " + failure);
    s.probe_pid = pid;
    s.probe_timed_out = false;
    by_probe_pid_[pid] = &s;
    Service* target = &s;
    s.probe_timer = loop_.timers().schedule(Clock::now() + check.timeout, [target] {
        target->probe_timer = 0;
        target->probe_timed_out = true;
        kill(-target->probe_pid, SIGKILL);  // its own session: the whole probe goes
    });
}

void Supervisor::on_probe_exit(Service& s, const ExitStatus& status) {
    const log::About about(s.config.name);
    loop_.timers().cancel(std::exchange(s.probe_timer, 0));
    s.probe_pid = -1;
    if (s.machine.state() != State::running || !s.config.healthcheck) return;
    const HealthCheck& check = *s.config.healthcheck;
    const bool success = !s.probe_timed_out && !status.signaled && status.status == 0;
    const TimePoint now = Clock::now();
    const auto change = s.health.probe_finished(now, success, check);
    if (!success)
        log::debug(s.config.name + ": healthcheck failed (" +
                   (s.probe_timed_out ? "timed out" : "status " + std::to_string(status.code())) + "), " +
                   std::to_string(s.health.failures()) + " in a row");
    schedule_probe(s, now + check.interval);
    if (change == HealthTracker::Change::became_healthy) {
        log::info(s.config.name + ": healthy");
        handle(s, s.machine.healthy(now));
    } else if (change == HealthTracker::Change::became_unhealthy) {
        log::error(s.config.name + ": unhealthy after " + std::to_string(check.retries) + " failed checks");
        if (s.side && s.side->serving()) {  // the new run of an overlapping restart
            abandon_new(s, "the new process was unhealthy after " + std::to_string(check.retries) + " failed checks",
                        false);
            return;
        }
        handle(s, s.machine.unhealthy(now));
    }
}

void Supervisor::stop_probe(Service& s) {
    loop_.timers().cancel(std::exchange(s.probe_timer, 0));
    if (s.probe_pid > 0) {
        kill(-s.probe_pid, SIGKILL);
        by_probe_pid_.erase(s.probe_pid);  // reaped as an orphan; its result no longer matters
        s.probe_pid = -1;
    }
}

// --------------------------------------------------------------- output

// The service's pipeline as its config wants it: kept while the settings
// stay the same (its pipes outlive every run), made again when a reload
// changed them.
void Supervisor::ensure_output(Service& s) {
    OutputSettings wanted = OutputSettings::of(s.config);
    if (s.output && s.output->settings() == wanted) return;
    drop_output(s);
    if (!ServiceOutput::needed(wanted)) return;
    auto output = std::make_unique<ServiceOutput>(s.config.name, std::move(wanted), stdout_writer_, stderr_writer_);
    if (!output->make_pipes()) {
        log::error(s.config.name + ": cannot create the output pipe: " + log::errno_text(errno));
        return;
    }
    ServiceOutput* raw = output.get();
    for (const Stream stream : {Stream::out, Stream::err}) {
        const int fd = raw->read_fd(stream);
        if (fd < 0) continue;
        s.output_tokens[static_cast<std::size_t>(stream)] =
            loop_.watch(fd, EPOLLIN, [raw, stream](std::uint32_t) { raw->drain(stream); });
    }
    s.output = std::move(output);
    keep_output(s);
}

void Supervisor::drop_output(Service& s) {
    if (!s.output) return;
    s.output->flush_partial();
    for (auto& token : s.output_tokens) loop_.unwatch(std::exchange(token, 0));
    s.output.reset();
}

std::string Supervisor::reopen_output_files() {
    std::string failures;
    for (auto& s : services_) {
        if (!s->output) continue;
        const std::string why = s->output->reopen_files();
        if (why.empty()) continue;
        log::error(s->config.name + ": " + why);
        failures += (failures.empty() ? "" : "; ") + s->config.name + ": " + why;
    }
    return failures;
}

// ----------------------------------------------------- across services

void Supervisor::settle() {
    advance_overlaps();
    if (phase_ == Phase::running) {
        start_eligible();
        maybe_start_program();
    }
    if (phase_ == Phase::stopping_services) advance_shutdown();
    forget_removed();
    close_stopped_sockets();
    end_start_up_burst();
    if (control_) control_->settle_waiters();
    report_to_systemd();
}

// Ready for its dependents: announced ready in this run, still running (or,
// for a oneshot, exited with success), and healthy if it has a healthcheck.
bool Supervisor::is_ready(const Service& s) const {
    if (s.side && s.side->serving()) return true;  // the old run serves while the new one starts
    const State st = s.machine.state();
    if (!s.ready) return false;
    if (s.config.type == ServiceType::oneshot) return st == State::exited;
    return st == State::running && healthy_enough(s);
}

// Will not become ready unless asked to start again: fatal, or exited with
// no start to follow (a failed oneshot, a run with restart = "no").
bool Supervisor::gave_up(const Service& s) {
    const State st = s.machine.state();
    return st == State::fatal || (st == State::exited && !s.start_pending);
}

bool Supervisor::healthy_enough(const Service& s) const {
    return !s.config.healthcheck || s.health.health() == Health::healthy;
}

// A table's name in depends_on waits for every one of its instances.
bool Supervisor::dependencies_ready(const Service& s, const Service*& blocker) const {
    blocker = nullptr;
    const ServiceIndex& services = index();
    for (const auto& dep : s.config.depends_on) {
        const Service* named = services.named(dep);
        const auto instances = services.instances_of(dep);
        if (!named && instances.empty()) return false;
        if (named && !is_ready(*named)) {
            blocker = named;
            return false;
        }
        for (const Service* d : instances)
            if (!is_ready(*d)) {
                blocker = d;
                return false;
            }
    }
    return true;
}

Service* Supervisor::find(const std::string& name) const { return index().named(name); }

const ServiceIndex& Supervisor::index() const {
    if (index_stale_) {
        index_.rebuild(services_);
        // A blocker may be gone, or no longer a dependency.
        for (const auto& s : services_) s->blocked_by = nullptr;
        index_stale_ = false;
    }
    return index_;
}

// Services start in parallel as soon as what they depend on is ready; the
// loop repeats because a start can make another service ready at once
// (a simple service is ready when its exec succeeded).
void Supervisor::start_eligible() {
    (void)index();  // made again if the services changed, which forgets every blocked_by
    for (bool started = true; started && phase_ == Phase::running;) {
        started = false;
        for (auto& s : services_) {
            if (!s->start_pending || !s->machine.is_down()) continue;
            // Still waiting for the dependency that kept it last time: a
            // chain of N services costs N pointer checks a settle, not N
            // lookups of every dependency.
            if (s->blocked_by && !is_ready(*s->blocked_by)) continue;
            if (!dependencies_ready(*s, s->blocked_by)) continue;
            s->start_pending = false;
            handle(*s, s->machine.start_requested(Clock::now()));
            started = true;
        }
    }
}

// Whether every wanted service has settled: ready, or unable to become ready
// (fatal, or exited without a restart). nullopt while one may still become
// ready; else the names of those that gave up.
std::optional<std::vector<std::string>> Supervisor::autostart_given_up() const {
    std::vector<std::string> given_up;
    for (const auto& s : services_) {
        if (!s->wanted || is_ready(*s)) continue;
        if (gave_up(*s)) given_up.push_back(s->config.name);
        else return std::nullopt;
    }
    return given_up;
}

// "both" mode: PROGRAM starts once every autostart service is ready. One that
// can no longer become ready is not waited for: PROGRAM starts anyway, and the
// log says so.
void Supervisor::maybe_start_program() {
    if (!program_ || program_started_) return;
    const auto given_up = autostart_given_up();
    if (!given_up) return;
    for (const auto& name : *given_up) log::error("starting " + program_name() + " although " + name + " is not ready");
    program_started_ = true;
    if (const auto failed = program_->start()) {
        program_exit_ = *failed;
        begin_shutdown();
    }
}

void Supervisor::advance_shutdown() {
    if (program_ && program_->running()) return;  // PROGRAM depends on every service: it goes first
    // Dependents before what they depend on (reverse start order), so a stop
    // that completes at once (a service in backoff) frees its dependencies in
    // the same pass.
    // A service still needed by one that is up waits. Only the services not
    // yet asked look at their dependents (service_index.hpp), so a settle
    // costs what is left to stop, not a table of every dependency: a chain
    // of 5,000 services stopped one by one rebuilt that table 5,000 times.
    const auto needed = [this](const Service& s) {
        const auto edges = index().dependents_of(s);
        return std::any_of(edges.begin(), edges.end(), [](const auto& edge) { return !edge.second->down(); });
    };
    for (auto it = services_.rbegin(); it != services_.rend(); ++it) {
        Service& s = **it;
        if (s.machine.is_down() || s.stop_sent || needed(s)) continue;
        s.stop_sent = true;
        handle(s, s.machine.stop_requested(Clock::now()));
    }
    // A post_stop still running is waited for (bounded by hook_timeout and shutdown_timeout).
    if (!std::all_of(services_.begin(), services_.end(),
                     [](const auto& s) { return s->down() && s->post_stop_pid <= 0; }))
        return;
    loop_.timers().cancel(shutdown_timer_);
    for (auto& s : services_) drop_output(*s);
    phase_ = leftovers_.begin(options_.grace) ? Phase::done : Phase::leftovers;
}

void Supervisor::forget_removed() {
    // Called after every batch of events: nothing to do is the common case,
    // and the socket paths in use are gathered only when there is something.
    const auto gone = [](const std::unique_ptr<Service>& s) { return s->removing && s->down(); };
    if (std::none_of(services_.begin(), services_.end(), gone)) return;
    const auto in_use = unix_paths_in_use();
    const auto erased = std::erase_if(services_, [this, &in_use, &gone](const std::unique_ptr<Service>& s) {
        if (!gone(s)) return false;
        unlink_unused_paths(s->sockets, in_use);  // its sockets close with it
        drop_output(*s);
        stop_probe(*s);
        loop_.timers().cancel(s->timer);
        cancel_schedule(*s);
        log::info(s->config.name + ": removed");
        return true;
    });
    if (erased > 0) services_changed();
}

// --------------------------------------------------- shutdown and reload

void Supervisor::begin_shutdown() {
    if (phase_ != Phase::running) return;
    phase_ = Phase::stopping_services;
    systemd_.stopping(status_text());
    for (auto& s : services_) {
        s->wanted = s->start_pending = false;
        cancel_schedule(*s);
    }
    shutdown_timer_ = loop_.timers().schedule(Clock::now() + config_.shutdown_timeout, [this] {
        shutdown_timer_ = 0;
        log::error("shutdown_timeout (" + format_duration(config_.shutdown_timeout) + ") reached; killing everything left");
        kill_everything();
    });
    if (program_ && program_->running()) {
        // Only on_fatal or a main service end things while PROGRAM runs.
        program_->send(SIGTERM);
        program_kill_timer_ = loop_.timers().schedule(Clock::now() + options_.grace, [this] {
            program_kill_timer_ = 0;
            program_->send(SIGKILL);
        });
    }
}

void Supervisor::kill_everything() {
    if (phase_ == Phase::running) begin_shutdown();
    needed_kill_ = true;
    if (program_) program_->send(SIGKILL);
    for (auto& s : services_) {
        kill_hooks(*s);
        if (!s->machine.is_down()) handle(*s, s->machine.kill_requested(Clock::now()));
        if (s->side) apply_side(*s, s->side->kill());
    }
    leftovers_.kill_now();
}

std::vector<ConfigError> Supervisor::reload() {
    if (phase_ != Phase::running) {
        log::info("not reloading: foster is shutting down");
        return {};
    }
    log::info("reloading " + *options_.config_path);
    systemd_.reloading();
    LoadResult loaded = load_trusted_config(*options_.config_path, LoadOptions{!options_.program.empty()});
    // Sockets are bound before anything changes: a bind error refuses the
    // reload like a config error, and the sockets in use stay as they are.
    SocketTable current;
    for (auto& s : services_)
        if (!s->removing) current[s->config.name] = std::move(s->sockets);
    BindResult bound;
    if (loaded.config) bound = bind_sockets(*loaded.config, *options_.config_path, current, from_systemd_, BindMode::hold);
    if (!bound.errors.empty()) {
        loaded.config.reset();
        loaded.errors = std::move(bound.errors);
    }
    if (!loaded.config) {
        hand_out_sockets(current);
        for (const auto& e : loaded.errors) log::error(e.to_string());
        const std::string refused = "reload refused: the config has " + std::to_string(loaded.errors.size()) +
                                    " error(s); nothing was changed";
        log::error(refused);
        systemd_.reloaded(status_text(), refused + " (first: " + loaded.errors.front().to_string() + ")");
        return loaded.errors;
    }
    Config next = std::move(*loaded.config);
    const TimePoint now = Clock::now();
    // The new configs by name: one lookup per running service, not a pass.
    std::unordered_map<std::string_view, const ServiceConfig*> next_by_name;
    for (const auto& c : next.services) next_by_name.emplace(c.name, &c);
    std::vector<Service*> overlapping;  // started once the new sockets are handed out
    for (auto& s : services_) {
        if (s->removing) continue;
        const auto found = next_by_name.find(s->config.name);
        if (found == next_by_name.end()) {
            log::info(s->config.name + ": removed from the config; stopping it");
            s->removing = true;
            services_changed();
            s->wanted = s->start_pending = false;
            cancel_schedule(*s);
            handle(*s, s->machine.stop_requested(now));
            continue;
        }
        const ServiceConfig& c = *found->second;
        if (c == s->config) continue;  // unchanged: its processes are left alone
        const bool was_up = !s->machine.is_down();
        const bool overlap = c.restart_mode == RestartMode::overlap && s->machine.state() == State::running &&
                             s->machine.pid() && !s->side;
        log::info(c.name + ": changed; restarting it" + (overlap ? " (overlapping)" : ""));
        stop_probe(*s);
        s->config = c;
        services_changed();  // the index is sorted by the configs' names
        s->machine.set_policy(policy_of(c));
        s->wanted = s->start_pending = c.autostart || was_up;
        arm_schedule(*s);
        if (overlap) overlapping.push_back(s.get());
        else if (was_up) handle(*s, s->machine.stop_requested(now));
    }
    if (next.control_socket != config_.control_socket)
        log::info("control_socket changed; the new one is used when foster restarts");
    if (next.syslog != config_.syslog) log::info("syslog changed; it takes effect when foster restarts");
    // A removed service keeps its sockets until it has stopped (forget_removed).
    for (auto& s : services_)
        if (s->removing && current.count(s->config.name) != 0) s->sockets = std::move(current[s->config.name]);
    adopt(std::move(next));
    hand_out_sockets(bound.table);
    for (Service* s : overlapping) begin_overlap(*s);
    const auto in_use = unix_paths_in_use();
    for (const auto& [name, old] : current) unlink_unused_paths(old, in_use);
    systemd_.reloaded(status_text(), "");
    return {};
}

// --------------------------------------------------------------- systemd

void Supervisor::report_to_systemd() {
    if (!systemd_.enabled()) return;
    const std::string status = status_text();
    if (!systemd_.ready_sent() && phase_ == Phase::running && autostart_given_up() && (!program_ || program_started_))
        systemd_.ready(status);
    else
        systemd_.status(status);
}

std::string Supervisor::status_text() const {
    std::vector<ServiceSummary> summary;
    summary.reserve(services_.size());
    for (const auto& s : services_) {
        if (s->removing && s->machine.is_down()) continue;
        summary.push_back(ServiceSummary{s->config.name, s->machine.state(), s->machine.exit_status(),
                                         s->machine.exec_error().has_value(),
                                         s->machine.state() == State::running && s->config.healthcheck &&
                                             s->health.health() == Health::unhealthy});
    }
    std::string text = status_summary(summary);
    if (program_ && program_->running()) text = program_name() + " running, " + text;
    return phase_ == Phase::running ? text : "stopping: " + text;
}

// Pings at half of WatchdogSec= (sd_watchdog_enabled(3) advises it), from
// the loop's timer queue: no thread, and no timer at all without a watchdog,
// so an idle foster stays at 0 wake-ups.
void Supervisor::schedule_watchdog() {
    const auto interval = systemd_.watchdog_interval();
    if (!interval) return;
    systemd_.watchdog();
    loop_.timers().schedule(Clock::now() + *interval / 2, [this] { schedule_watchdog(); });
}

// ------------------------------------------------------------ the end

int Supervisor::exit_code() const {
    if (fatal_shutdown_) return 1;
    if (program_exit_) return *program_exit_;
    if (main_exit_) return *main_exit_;
    return needed_kill_ ? 1 : 0;
}

std::string Supervisor::program_name() const {
    return options_.program.empty() ? std::string("PROGRAM") : "'" + options_.program.front() + "'";
}

int run_services(const Options& options, Inheritance& inheritance) {
    // Before foster opens anything (standard_streams.hpp).
    const std::vector<Fd> held_streams = hold_closed_standard_streams();
    LoadResult loaded = load_trusted_config(*options.config_path, LoadOptions{!options.program.empty()});
    if (loaded.config) {
        // Checked before anything is bound or started, so --check says it too.
        if (auto why = why_untrusted_socket_directory(control_socket_of(*loaded.config))) {
            loaded.config.reset();
            loaded.errors = {ConfigError{*options.config_path, 0, 0, std::move(*why)}};
        }
    }
    // Signals are blocked before anything of foster's can be seen from
    // outside (a socket file, below): a SIGTERM sent once it is there must
    // start the graceful shutdown, not kill foster by its default action.
    Fd signal_fd;
    if (loaded.config && !options.check_only) {
        signal_fd = take_charge(inheritance.pid);
        if (!signal_fd) return 1;
        raise_nofile_limit();  // before the sockets and the services (nofile_limit.hpp)
    }
    SystemdSockets from_systemd;
    BindResult bound;
    if (loaded.config) {
        // Bound before any service starts; --check binds and closes at once
        // (foster.toml(5), SOCKETS, says why).
        from_systemd = take_systemd_sockets(*loaded.config, inheritance);
        bound = bind_sockets(*loaded.config, *options.config_path, {}, from_systemd,
                             options.check_only ? BindMode::check : BindMode::hold);
        if (!bound.errors.empty()) {
            loaded.config.reset();
            loaded.errors = std::move(bound.errors);
        }
    }
    if (!loaded.config || options.check_only) {
        for (const auto& e : loaded.errors) log::fatal(e.to_string());
        return loaded.config ? 0 : 2;
    }
    try {
        Supervisor supervisor(options, inheritance, std::move(*loaded.config), std::move(signal_fd),
                              std::move(bound.table), std::move(from_systemd));
        return supervisor.run();
    } catch (const std::exception& e) {
        log::fatal(std::string("cannot start: ") + e.what());
        return 1;
    }
}

}  // namespace foster
