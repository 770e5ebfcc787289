// spawn.hpp — starting a child: everything prepared here, in the parent.
//
// A SpawnRequest is a declarative description of the child (s6's model):
// argv, envp, the candidate paths of the executable, the process group, the
// descriptors, the signal state, credentials. build_spawn_plan() turns it into
// flat, pre-allocated arrays; the child side (spawn_child.cpp) only applies
// them and execs. Nothing in the child allocates, locks, logs or throws.
//
// The same code serves PROGRAM (entrypoint mode: the signal mask, ignored
// signals and descriptors foster inherited) and services (a clean state: empty
// mask, default dispositions, fds 0-2 only); the difference is data.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fd.hpp"
#include "limits.hpp"

namespace foster {

// Which step of the child's set-up failed; each gets its own message.
enum class SpawnStage : int {
    none = 0,
    fork,
    session,
    stdio,
    descriptors,
    umask,
    chdir,
    groups,
    gid,
    uid,
    stdout_file,  // opening `stdout = "/path"`, as the service's user
    stderr_file,
    signals,
    exec,
    sockets,
    limits,             // detail: the RLIMIT_* that could not be set
    nice,
    oom_score_adjust,
    no_new_privileges,
};

// "cannot run 'x'", "cannot change directory to /srv", ...
// `detail` is SpawnFailure::detail.
std::string describe_spawn_failure(SpawnStage stage, const std::string& program,
                                   const std::string& working_directory, int detail = 0);

// Exit status a shell would give for an exec failure: 127 not found, 126 otherwise.
int exit_status_for_exec_errno(int err);

enum class ProcessGroup {
    new_group,    // setpgid(0, 0): PROGRAM, so -g can reach its group
    new_session,  // setsid(): services, each with a group of its own
};

// What a descriptor slot 0-2 of the child gets.
struct StdioSlot {
    int source = -1;  // -1: keep what foster has; otherwise dup3'd onto the slot
    // Non-empty: the child opens this file (append, create, never through a
    // symlink) after dropping privileges, so it can only reach what the
    // service's user could, and places it on the slot; `source` is ignored.
    std::string open_path;
    // Slot 2 only: a copy of whatever slot 1 ends up with (stderr = "stdout"),
    // made after the files are opened, so both share one open file.
    bool copy_of_stdout = false;
};

struct SpawnRequest {
    std::vector<std::string> argv;  // argv[0] is looked up in PATH unless it has a '/'
    std::vector<std::string> envp;  // "NAME=value"
    ProcessGroup group = ProcessGroup::new_group;
    bool take_terminal = false;     // make the child's group the foreground of fd 0's terminal

    // Signals: the child's mask at exec, which signals it resets to SIG_DFL,
    // and which it sets to SIG_IGN (foster's own SIGCHLD disposition differs
    // from the one PROGRAM is owed).
    sigset_t mask{};
    sigset_t reset_to_default{};
    sigset_t ignore{};

    // Descriptors above 2 that survive exec (entrypoint: what foster inherited);
    // every other one is marked close-on-exec in the child.
    std::vector<int> keep_fds;
    std::array<StdioSlot, 3> stdio{};

    std::optional<std::string> working_directory;
    std::optional<mode_t> umask;
    struct Ids {
        uid_t uid;
        gid_t gid;
        std::vector<gid_t> groups;
    };
    std::optional<Ids> ids;

    // Placed at fd 3, 4, ... in this order (held sockets); the child's other
    // descriptors above 2 are closed as usual.
    std::vector<int> pass_fds;

    // When set, the environment entry "LISTEN_PID=..." is rewritten in the
    // child to the child's own pid (socket activation through foster).
    bool rewrite_listen_pid = false;

    // Limits, nice and the OOM score are set before the credentials change
    // (lowering them back needs no privilege, raising them does).
    ProcessSettings process;

    // Whether the result holds the child by a pidfd. The service runner holds
    // its children by pid (main_process.hpp) and asks for none: a pidfd made
    // at clone and closed at once cost two system calls' worth of kernel work
    // per start and per healthcheck probe.
    bool pidfd = true;
};

struct SpawnedChild {
    pid_t pid = -1;
    Fd pidfd;  // holds the child: signals go through it, a recycled pid is never hit (unless !request.pidfd)
};

struct SpawnFailure {
    SpawnStage stage = SpawnStage::none;
    int error = 0;   // errno
    pid_t pid = -1;  // the child that failed (already exited, still to be reaped), or -1
    int detail = 0;  // SpawnStage::limits: the resource
};

struct SpawnResult {
    std::optional<SpawnedChild> child;
    SpawnFailure failure;  // meaningful when !child
};

// The same, with what the request knows: the program, its working directory
// and the output files ("cannot open /var/log/x.log").
std::string describe_spawn_failure(SpawnStage stage, const SpawnRequest& request, int detail = 0);

// Starts the child and returns once it has exec'd or failed. The caller reaps it.
SpawnResult spawn(const SpawnRequest& request);

// What a child started by spawn_without_waiting reads until its exec: the
// request, its flat plan, the child's stack. Opaque; freed only once the
// report pipe has closed (the child exec'd or exited, and so no longer uses
// foster's memory).
struct SpawnMemory;
struct SpawnMemoryDeleter {
    void operator()(SpawnMemory* memory) const noexcept;
};

// A child whose exec is still under way.
struct StartingChild {
    pid_t pid = -1;
    Fd pidfd;
    Fd report;  // non-blocking: readable at the failure report, EOF at exec or exit
    std::unique_ptr<SpawnMemory, SpawnMemoryDeleter> memory;

    // The request it was started from (for describing a failure).
    [[nodiscard]] const SpawnRequest& request() const;
};

struct StartResult {
    std::optional<StartingChild> child;
    SpawnFailure failure;  // meaningful when !child: nothing was started
};

// Starts the child and returns at once, without waiting for its exec (the
// service runner starts many services in parallel this way). The outcome
// comes from read_exec_outcome once `report` is readable. `request` is moved
// into the child's memory when a child was started, and left as it was
// otherwise. Where the child cannot run alongside foster
// (FOSTER_RAW_CHILD_SYSCALLS in spawn_child.hpp) this waits for the exec, and
// the outcome is readable at once.
StartResult spawn_without_waiting(SpawnRequest&& request);

// The exec's outcome once the report pipe has closed: stage none for a
// successful exec, else the step that failed. nullopt while it is still
// open (unless `wait`: then it waits for the close, which a child that has
// exited has already made). After it returns a value, `child.memory` is no
// longer in use and may go.
std::optional<SpawnFailure> read_exec_outcome(StartingChild& child, bool wait = false);

// Unmaps the stacks kept for the next burst of spawn_without_waiting. The
// service runner calls it once, when its start-up burst is over: until
// another burst comes, 32 kept stacks are 128 KiB of foster's memory for
// nothing (a page each), and a burst that does come maps them once more
// and keeps them from then on.
void release_kept_stacks();

// PATH lookup is done here, before fork: the candidates execve tries in order.
std::vector<std::string> executable_candidates(const std::string& name, const std::vector<std::string>& envp);

}  // namespace foster
