// config.hpp — the services file, read and checked (foster.toml(5)).
//
// Loading is pure: it reads the file and the `environment_file`s it names,
// expands `${VAR}` from foster's environment, resolves user and group names,
// and starts nothing. Every problem in the file is found in one pass and reported
// as FILE:LINE:COLUMN: message, so `foster --check` and a refused reload show
// the whole list at once. A Config that comes back is complete and valid:
// every default is filled in, every name resolved, the start order known, so
// nothing after loading has to check it again.
#pragma once

#include <sys/types.h>

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duration.hpp"
#include "heap_optional.hpp"
#include "lazy_default.hpp"
#include "socket_spec.hpp"
#include "limits.hpp"
#include "schedule.hpp"
#include "timestamps.hpp"

namespace foster {

// `type`: when a service counts as ready, which is when its dependents start.
enum class ServiceType {
    simple,   // as soon as it has been started
    oneshot,  // when it has exited with a success code; it is not a long-running process
    notify,   // when it sends READY=1 to $NOTIFY_SOCKET
};

// `restart`: what happens when a run ends without anyone asking it to.
enum class RestartPolicy {
    no,          // never restarted automatically
    on_failure,  // restarted after a failure: bad exit code, killed by a signal, unhealthy
    always,      // restarted after every exit
};

// `on_fatal`: what a service reaching `fatal` does to foster as a whole.
// `restart_mode`: how a reload that changed a running service restarts it.
enum class RestartMode {
    stop_first,  // the old process stops, then the new one starts
    overlap,     // the new one starts beside the old, which stops once the new one is ready
};

enum class OnFatal {
    ignore,    // the service stays fatal; the others go on
    shutdown,  // foster stops everything and exits 1
};

// `stdout` / `stderr`: where a service's output goes.
struct OutputTarget {
    enum class Kind {
        inherit,         // foster's own descriptor
        null,            // /dev/null
        prefix,          // piped through foster, each line written as "NAME | line"
        file,            // appended to `path`
        journal,         // a stream of its own to journald (sd_journal_stream_fd), identifier = NAME
        same_as_stdout,  // stderr only: wherever stdout goes
    };
    Kind kind = Kind::inherit;
    std::string path;  // absolute; set for Kind::file only
    // `stdout_max_size` / `stdout_backups` (and stderr_*), Kind::file only:
    // foster writes the file itself and rotates it at this size, keeping
    // `backups` older files (rotating_file.hpp). None: never rotated.
    std::optional<std::uint64_t> max_size;
    int backups = 5;
    bool operator==(const OutputTarget&) const = default;
};

// `healthcheck`: a probe run periodically while the service is running.
struct HealthCheck {
    std::vector<std::string> argv;  // as for `command`: a string becomes /bin/sh -c STRING
    Millis interval{30'000};        // between probes, and before the first one; more than 0
    Millis timeout{10'000};         // a probe running longer fails (and is killed); more than 0
    int retries = 3;                // failures in a row that make the service unhealthy; >= 1
    Millis start_period{0};         // failures this soon after the start do not count
    bool operator==(const HealthCheck&) const = default;
};

// `user` / `group`, resolved to numbers when the file is loaded, so that the
// child only calls setgroups/setgid/setuid and never looks anything up.
// Present when either key is given:
// - `user` given: uid from it; gid from `group` if given, else the user's
//   primary group; groups = getgrouplist(user, gid) (what initgroups sets).
// - `user` given as a number with no passwd entry (common in containers): gid
//   from `group` if given, else foster's own gid (as `docker run --user N`
//   does); groups = {gid}. We do not invent gid = uid: that group may belong
//   to someone else.
// - only `group` given: uid stays foster's (getuid() at load time), and
//   groups = {gid}, so the service does not keep foster's supplementary
//   groups (dropping them needs CAP_SETGID, like the group change itself).
struct Credentials {
    uid_t uid = 0;
    gid_t gid = 0;                // primary group
    std::vector<gid_t> groups;    // supplementary groups, for setgroups(2); includes gid
    std::string user_name;        // the passwd name when `user` has an entry, else empty
    bool operator==(const Credentials&) const = default;
};

// The hooks of a service: keys most services never set, so a ServiceConfig
// holds them apart (LazyDefault: one pointer while none is set).
struct HookSettings {
    // `stop_command`: run instead of sending stop_signal while the main
    // process lives (argv as for `command`); empty: none. stop_timeout still
    // bounds the stop, then SIGKILL.
    std::vector<std::string> stop_command;
    // `pre_start`: run to completion before every start (argv as for
    // `command`); empty: none. Failing, or running longer than hook_timeout,
    // is a failed start.
    std::vector<std::string> pre_start;
    // `post_stop`: run after every run ends (stopped or exited), with
    // FOSTER_EXIT_STATUS and FOSTER_EXIT_SIGNAL; the next start waits for it.
    std::vector<std::string> post_stop;
    Millis hook_timeout{30'000};  // bound on pre_start and post_stop; > 0
    bool operator==(const HookSettings&) const = default;
};

// One [services.NAME] table, with every default filled in.
struct ServiceConfig {
    std::string name;  // [A-Za-z0-9_.-]+: it appears in logs, in "NAME | line" and in fosterctl
                       // (NAME@N for an instance)
    // `instances = N` (instances.hpp): this is instance `instance` (1..N) of
    // the table `instance_of`, and name is "instance_of@instance". Empty and
    // 0 for a service without instances. N itself is not kept: changing it
    // leaves the instances that remain equal, so a reload keeps them running.
    std::string instance_of;
    int instance = 0;
    // `schedule` (schedule.hpp): a oneshot started at these times; none: not scheduled.
    HeapOptional<Schedule> schedule;

    // `command`: an array is the argv as is (argv[0] searched in PATH); a
    // string becomes {"/bin/sh", "-c", STRING}. Never empty.
    std::vector<std::string> argv;
    ServiceType type = ServiceType::simple;
    // `depends_on`, as written: every name is a service of the same file, not
    // this one, and there are no cycles (Config::start_order respects them).
    // The name of a table with `instances` stands for every instance
    // (answers_to in instances.hpp).
    std::vector<std::string> depends_on;

    RestartPolicy restart = RestartPolicy::on_failure;
    Millis restart_delay{100};  // first backoff; doubles after each run shorter than min_uptime
    // Cap on the backoff; never below restart_delay. When not given it is
    // 30s, or restart_delay if that is longer (a long first delay alone is
    // not a mistake).
    Millis restart_delay_max{30'000};
    Millis min_uptime{1'000};  // a run at least this long resets the backoff and the start limit
    int start_limit_burst = 5;  // at most this many starts (>= 1) ...
    // ... within any window this long; 0 means no window can hold two
    // starts, so the limit never triggers.
    Millis start_limit_interval{10'000};
    std::vector<int> success_exit_codes{0};  // each in 0..255, in file order; never empty

    int stop_signal = SIGTERM;    // sent to the service's process group to stop it
    // `reload_signal`: what `fosterctl reload NAME` sends to the main process;
    // none: the service cannot be reloaded that way.
    std::optional<int> reload_signal;
    // `stop_command`, `pre_start`, `post_stop`, `hook_timeout` (HookSettings).
    LazyDefault<HookSettings> hooks;
    Millis stop_timeout{10'000};  // then SIGKILL to the process group; 0 = at once
    RestartMode restart_mode = RestartMode::stop_first;  // never overlap for a oneshot
    // How long the new process of an overlapping restart gets to become
    // ready before it is stopped and the old one kept; > 0.
    Millis overlap_timeout{20'000};

    bool autostart = true;  // false: started only by `fosterctl start`
    bool main = false;      // its exit ends foster with its status; at most one per file
    OnFatal on_fatal = OnFatal::ignore;

    // Added to (or overriding) the inherited environment, in file order.
    // Names are non-empty and contain no '='; no NUL anywhere.
    std::vector<std::pair<std::string, std::string>> environment;
    HeapOptional<std::string> working_directory;  // absolute; none: foster's own
    HeapOptional<Credentials> credentials;        // none: foster's own user and groups
    std::optional<mode_t> umask;                   // 0..0777; none: foster's own
    // `stdout`, `stderr`: apart until set (LazyDefault); inherit when not.
    LazyDefault<OutputTarget> stdout_target;       // never Kind::same_as_stdout
    LazyDefault<OutputTarget> stderr_target;
    // `timestamps`: in front of its prefix and file lines; [foster]'s when not given.
    TimestampStyle timestamps = TimestampStyle::none;
    HeapOptional<HealthCheck> healthcheck;
    // `[services.NAME.sockets]`, in file order: passed at fd 3, 4, ...
    // (socket_spec.hpp; bound and held by held_sockets.hpp).
    std::vector<SocketSpec> sockets;
    // `limits`, `nice`, `oom_score_adjust`, `no_new_privileges`: set in the child before exec.
    LazyDefault<ProcessSettings> process;
    // `log_buffer`: lines of recent output kept in memory (log_buffer.hpp);
    // none: [foster]'s. Set only for a service with a `prefix` output.
    std::optional<std::size_t> log_buffer;

    // Reload compares services with this: "changed" means any key differs
    // (including user/group membership resolved at load time).
    bool operator==(const ServiceConfig&) const = default;
};

struct Config {
    Millis shutdown_timeout{30'000};            // [foster] bound on the whole shutdown
    std::optional<std::string> control_socket;  // [foster] socket path; fits in sun_path
    TimestampStyle timestamps = TimestampStyle::none;  // [foster] for services without their own
    std::size_t log_buffer = 1000;              // [foster] lines kept per service (0: none)
    std::optional<bool> syslog;                 // [foster] bind /dev/log; none: when PID 1 and it is absent
    std::vector<ServiceConfig> services;        // sorted by name (byte order)
    // Indices into `services`, dependencies before their dependents, ties
    // broken by name. Stop in the reverse of this order.
    std::vector<std::size_t> start_order;
};

// One problem in a config file. line and column are 1-based; 0 when the
// problem concerns the file as a whole (it could not be read).
struct ConfigError {
    std::string file;
    int line = 0;
    int column = 0;
    std::string message;
    // "FILE:LINE:COLUMN: message", or "FILE: message" when line is 0.
    std::string to_string() const;
    bool operator==(const ConfigError&) const = default;
};

struct LoadOptions {
    // foster was also given a PROGRAM ("both" mode): PROGRAM is the main
    // process, so `main = true` is an error.
    bool has_program = false;
    // false (fosterctl, which only wants control_socket): `${VAR}` expands
    // to "" whatever the caller's environment, and environment files are not
    // read; foster itself reports their problems when it loads the file.
    bool resolve_environment = true;
};

// Either a config and no errors, or no config and at least one error, sorted
// by line and column.
struct LoadResult {
    std::optional<Config> config;
    std::vector<ConfigError> errors;
};

// Parses `text` as the contents of `file_name` (used in the errors only).
// Never throws.
LoadResult parse_config(std::string_view text, std::string_view file_name,
                        const LoadOptions& options = {});

// Reads and parses the file at `path`. A file that cannot be read gives the
// single error "PATH: cannot read: <reason>". Never throws.
LoadResult load_config(const std::string& path, const LoadOptions& options = {});

}  // namespace foster
