// spawn.cpp — the parent side of starting a child.
//
// The primitive is clone(CLONE_VM | CLONE_PIDFD): the child shares our memory
// instead of copying the page tables. spawn() adds CLONE_VFORK: we are
// suspended until the child has exec'd or exited, so the exec report can be
// read at once and the child's use of our memory ends before we run again.
// spawn_without_waiting() does not: we go on while the child sets itself up
// and execs (services start in parallel), and the memory it reads (request,
// plan, stack) stays untouched, owned by the StartingChild, until its report
// pipe closes. docs/DESIGN.md has the figures against fork and posix_spawn.
#include "spawn.hpp"

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "log.hpp"
#include "nofile_limit.hpp"
#include "spawn_child.hpp"

namespace foster {

namespace {

constexpr std::size_t child_stack_size = 64 * 1024;
constexpr std::size_t guard_size = 4096;

// A child's stack, with a guard page below it so that an overflow faults
// instead of corrupting our heap: its top, or nullptr.
char* map_stack() {
    void* base = mmap(nullptr, child_stack_size + guard_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (base == MAP_FAILED) return nullptr;
    if (mprotect(base, guard_size, PROT_NONE) != 0) {  // no stack without its guard
        munmap(base, child_stack_size + guard_size);
        return nullptr;
    }
    return static_cast<char*>(base) + guard_size + child_stack_size;
}

void unmap_stack(char* top) { munmap(top - child_stack_size - guard_size, child_stack_size + guard_size); }

// One stack for every child: a child runs on it only while we are suspended
// (CLONE_VFORK), so it is never in use twice. Mapped on first use. A failure
// is not remembered: memory may be short now and not at the next spawn, so
// the next one tries again.
char* child_stack_top() {
    static char* top = nullptr;
    if (top == nullptr) top = map_stack();
    return top;
}

// valgrind runs a clone that shares our memory only as a vfork (it stops
// with "Unsupported clone() flags" otherwise): under it, spawns wait for the
// exec. Its client request is a few no-op instructions on a real CPU.
bool running_on_valgrind() {
#if __has_include(<valgrind/valgrind.h>)
    return RUNNING_ON_VALGRIND != 0;
#else
    return false;
#endif
}

// Stacks of children that run alongside us (spawn_without_waiting), one per
// child until its exec. As many are kept for the next starts as the service
// runner lets be in flight at once (supervisor_exec.cpp): crash-looping
// services restart in bursts, and starting thousands of services is one long
// burst. A stack unmapped after one burst and mapped again for the next cost
// an mmap, an mprotect and an munmap per start, the last two each a TLB
// shootdown on every CPU a child of ours runs on (7 % of foster's CPU in the
// soak and in a 10,000-service start, bench/README.md). A kept stack holds
// only the pages a child touched (a few KiB).
constexpr std::size_t spare_stacks_kept = 32;
std::vector<char*>& spare_stacks() {
    static std::vector<char*> spares;
    return spares;
}

char* take_stack() {
    auto& spares = spare_stacks();
    if (spares.empty()) return map_stack();
    char* top = spares.back();
    spares.pop_back();
    return top;
}

void give_back_stack(char* top) {
    auto& spares = spare_stacks();
    if (spares.size() < spare_stacks_kept) {
        spares.push_back(top);  // reserve() below keeps this from throwing in a destructor
        return;
    }
    unmap_stack(top);
}

}  // namespace

void release_kept_stacks() {
    for (char* top : spare_stacks()) unmap_stack(top);
    spare_stacks().clear();  // its capacity stays: give_back_stack never allocates
}

namespace {

std::string env_value(const std::vector<std::string>& envp, std::string_view name) {
    for (const auto& entry : envp)
        if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 && entry[name.size()] == '=')
            return entry.substr(name.size() + 1);
    return {};
}

// Storage the plan's pointers point into; lives across the clone call.
struct PlanStorage {
    std::vector<const char*> argv;
    std::string listen_pid_entry;
    std::vector<char*> envp;
    std::vector<std::string> candidates;
    std::vector<const char*> candidate_ptrs;
    std::vector<int> keep_fds;
    std::vector<gid_t> groups;
    std::vector<int> pass_fds, pass_scratch;
    char* listen_pid_digits = nullptr;
    std::vector<ChildLimit> limits;
    std::string oom_score_adj_text;
};

// Limits, nice, OOM score and no_new_privs, flattened for the child.
void plan_process_settings(const ProcessSettings& settings, PlanStorage& storage, ChildPlan& plan) {
    // The RLIMIT_NOFILE foster raised for itself goes back to what it was
    // given, unless the service sets its own (nofile_limit.hpp).
    if (const auto given = given_nofile_limit();
        given && std::none_of(settings.limits.begin(), settings.limits.end(),
                              [](const ResourceLimit& l) { return l.resource == RLIMIT_NOFILE; }))
        storage.limits.push_back({given->resource, given->soft, given->hard});
    for (const auto& limit : settings.limits) storage.limits.push_back({limit.resource, limit.soft, limit.hard});
    plan.limits = storage.limits.data();
    plan.limit_count = static_cast<int>(storage.limits.size());
    plan.set_nice = settings.nice.has_value();
    plan.nice_value = settings.nice.value_or(0);
    if (settings.oom_score_adjust) {
        storage.oom_score_adj_text = std::to_string(*settings.oom_score_adjust) + "\n";
        plan.oom_score_adj_path = "/proc/self/oom_score_adj";
        plan.oom_score_adj_text = storage.oom_score_adj_text.c_str();
        plan.oom_score_adj_length = static_cast<int>(storage.oom_score_adj_text.size());
    }
    plan.no_new_privileges = settings.no_new_privileges;
}

ChildPlan make_plan(const SpawnRequest& request, PlanStorage& storage, int report_fd) {
    for (const auto& a : request.argv) storage.argv.push_back(a.c_str());
    storage.argv.push_back(nullptr);

    // envp points into the request's own strings (execve only reads them),
    // except the LISTEN_PID= entries: those point to one entry of the
    // storage's with room for any pid, which the child fills in.
    const bool rewrite = request.rewrite_listen_pid;
    if (rewrite) {
        storage.listen_pid_entry = "LISTEN_PID=" + std::string(20, '\0');
        storage.listen_pid_digits = storage.listen_pid_entry.data() + std::strlen("LISTEN_PID=");
    }
    for (const auto& e : request.envp) {
        if (rewrite && e.rfind("LISTEN_PID=", 0) == 0) storage.envp.push_back(storage.listen_pid_entry.data());
        else storage.envp.push_back(const_cast<char*>(e.c_str()));
    }
    storage.envp.push_back(nullptr);
    // No LISTEN_PID= entry to fill in: nothing for the child to write.
    if (rewrite && std::none_of(request.envp.begin(), request.envp.end(),
                                [](const std::string& e) { return e.rfind("LISTEN_PID=", 0) == 0; }))
        storage.listen_pid_digits = nullptr;

    storage.candidates = executable_candidates(request.argv.front(), request.envp);  // spawn() checked: not empty
    for (const auto& c : storage.candidates) storage.candidate_ptrs.push_back(c.c_str());
    storage.candidate_ptrs.push_back(nullptr);

    storage.keep_fds = request.keep_fds;
    storage.pass_fds = request.pass_fds;
    storage.pass_scratch.assign(request.pass_fds.size(), -1);
    for (std::size_t i = 0; i < request.pass_fds.size(); ++i) storage.keep_fds.push_back(3 + static_cast<int>(i));
    std::sort(storage.keep_fds.begin(), storage.keep_fds.end());
    storage.keep_fds.erase(std::remove_if(storage.keep_fds.begin(), storage.keep_fds.end(),
                                          [](int fd) { return fd <= 2; }),
                           storage.keep_fds.end());

    ChildPlan plan{};
    plan.argv = storage.argv.data();
    plan.envp = storage.envp.data();
    plan.exec_candidates = storage.candidate_ptrs.data();
    plan.group = request.group;
    plan.take_terminal = request.take_terminal;
    plan.mask = request.mask;
    plan.reset_to_default = request.reset_to_default;
    plan.ignore = request.ignore;
    plan.keep_fds = storage.keep_fds.data();
    plan.keep_fd_count = static_cast<int>(storage.keep_fds.size());
    for (int slot = 0; slot < 3; ++slot) {
        const StdioSlot& s = request.stdio[static_cast<std::size_t>(slot)];
        plan.stdio_source[slot] = s.open_path.empty() ? s.source : -1;
        plan.open_path[slot] = s.open_path.empty() ? nullptr : s.open_path.c_str();
    }
    plan.stderr_copies_stdout = request.stdio[2].copy_of_stdout;
    plan.working_directory = request.working_directory ? request.working_directory->c_str() : nullptr;
    plan.set_umask = request.umask.has_value();
    plan.umask_value = request.umask.value_or(0);
    if (request.ids) {
        storage.groups = request.ids->groups;
        plan.set_ids = true;
        plan.uid = request.ids->uid;
        plan.gid = request.ids->gid;
        plan.groups = storage.groups.data();
        plan.group_count = static_cast<int>(storage.groups.size());
    }
    plan.pass_fds = storage.pass_fds.data();
    plan.pass_fd_count = static_cast<int>(storage.pass_fds.size());
    plan.pass_scratch = storage.pass_scratch.data();
    plan.listen_pid_digits = storage.listen_pid_digits;
    plan_process_settings(request.process, storage, plan);
    plan.report_fd = report_fd;
    return plan;
}

// Reads the child's report: nothing (EOF) means execve succeeded.
SpawnFailure read_report(int report_fd, pid_t pid) {
    ChildReport report{};
    ssize_t n;
    do n = ::read(report_fd, &report, sizeof report);
    while (n < 0 && errno == EINTR);
    if (n == 0) return {};
    if (n != static_cast<ssize_t>(sizeof report)) return {SpawnStage::exec, EIO, pid};
    return {static_cast<SpawnStage>(report.stage), report.error, pid, report.detail};
}

}  // namespace

// See spawn.hpp. Nothing here moves once the child is started: the plan's
// pointers point into `storage` and `request`, the child into all three.
struct SpawnMemory {
    SpawnRequest request;
    PlanStorage storage;
    ChildPlan plan{};
    char* stack = nullptr;
    ChildReport report{};
    std::size_t report_bytes = 0;

    SpawnMemory() { spare_stacks().reserve(spare_stacks_kept); }
    ~SpawnMemory() {
        if (stack != nullptr) give_back_stack(stack);
    }
    SpawnMemory(const SpawnMemory&) = delete;
    SpawnMemory& operator=(const SpawnMemory&) = delete;
};

void SpawnMemoryDeleter::operator()(SpawnMemory* memory) const noexcept { delete memory; }

const SpawnRequest& StartingChild::request() const { return memory->request; }

std::vector<std::string> executable_candidates(const std::string& name, const std::vector<std::string>& envp) {
    if (name.find('/') != std::string::npos) return {name};
    std::string path = env_value(envp, "PATH");
    if (path.empty()) path = "/usr/local/bin:/usr/bin:/bin";  // execvp's default, minus "."
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const std::size_t colon = path.find(':', start);
        std::string_view dir = std::string_view(path).substr(start, colon == std::string::npos ? std::string::npos : colon - start);
        if (dir.empty()) dir = ".";  // an empty PATH entry means the current directory
        // Built by append into a reserved string: GCC 12 at -O3 reports a
        // false -Wrestrict for `dir + "/" + name` (GCC bug 105329).
        std::string candidate;
        candidate.reserve(dir.size() + 1 + name.size());
        candidate.append(dir).append(1, '/').append(name);
        out.push_back(std::move(candidate));
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    return out;
}

namespace {

// The pipe a child reports its exec failure on (close-on-exec: EOF means
// the exec succeeded). Passed descriptors go to 3, 4, ...: the write end is
// moved above them. nullopt, errno set, if a descriptor cannot be made.
std::optional<Pipe> report_pipe(int flags, std::size_t passed) {
    int ends[2];
    if (pipe2(ends, flags) != 0) return std::nullopt;
    Pipe report{Fd{ends[0]}, Fd{ends[1]}};
    if (passed > 0) {
        Fd moved{fcntl(report.write_end.get(), F_DUPFD_CLOEXEC, 3 + static_cast<int>(passed))};
        if (!moved) return std::nullopt;
        report.write_end = std::move(moved);
    }
    return report;
}

}  // namespace

SpawnResult spawn(const SpawnRequest& request) {
    // The config and the command line refuse an empty command; should one
    // arrive anyway it is an exec failure, not an exception on the loop.
    if (request.argv.empty()) return {std::nullopt, {SpawnStage::exec, ENOENT, -1}};
    auto made = report_pipe(O_CLOEXEC, request.pass_fds.size());
    if (!made) return {std::nullopt, {SpawnStage::fork, errno, -1}};
    Pipe report = std::move(*made);

    char* stack = child_stack_top();
    if (stack == nullptr) return {std::nullopt, {SpawnStage::fork, errno, -1}};

    PlanStorage storage;
    ChildPlan plan = make_plan(request, storage, report.write_end.get());

    int pidfd = -1;
    const int pidfd_flag = request.pidfd ? CLONE_PIDFD : 0;
    const pid_t pid = clone(run_child, stack, CLONE_VM | CLONE_VFORK | pidfd_flag | SIGCHLD, &plan, &pidfd);
    if (pid < 0) return {std::nullopt, {SpawnStage::fork, errno, -1}};
    Fd child_pidfd{pidfd};

    // We run again once the child's exec has let go of our memory, or it
    // exited; closing our write end leaves the child's as the only one, so
    // read() sees EOF for success or the report for failure. It can still
    // wait a moment: the kernel wakes a vfork parent when the new program's
    // memory is in place, a few microseconds before exec closes the
    // child's close-on-exec descriptors.
    report.write_end.reset();
    SpawnFailure failure = read_report(report.read_end.get(), pid);
    if (failure.stage != SpawnStage::none) return {std::nullopt, failure};
    return {SpawnedChild{pid, std::move(child_pidfd)}, {}};
}

StartResult spawn_without_waiting(SpawnRequest&& request) {
    if (request.argv.empty()) return {std::nullopt, {SpawnStage::exec, ENOENT, -1}};
    // Non-blocking: the loop reads the report when it comes, never waits for it.
    auto made = report_pipe(O_CLOEXEC | O_NONBLOCK, request.pass_fds.size());
    if (!made) return {std::nullopt, {SpawnStage::fork, errno, -1}};
    Pipe report = std::move(*made);
    std::unique_ptr<SpawnMemory, SpawnMemoryDeleter> memory{new SpawnMemory};
    memory->stack = take_stack();
    if (memory->stack == nullptr) return {std::nullopt, {SpawnStage::fork, errno, -1}};
    memory->request = std::move(request);
    memory->plan = make_plan(memory->request, memory->storage, report.write_end.get());

    // Where the child would write our errno, it must not run alongside us.
    // Nor where it sets its OOM score: the kernel gives a new oom_score_adj
    // to every process that shares the writer's memory, unless that process
    // is suspended in a vfork (fs/proc/base.c, __set_oom_adj), so foster
    // would take the service's score too.
    const int wait_flag = !FOSTER_RAW_CHILD_SYSCALLS || memory->request.process.oom_score_adjust.has_value() ||
                                  running_on_valgrind()
                              ? CLONE_VFORK
                              : 0;
    int pidfd = -1;
    const int pidfd_flag = memory->request.pidfd ? CLONE_PIDFD : 0;
    const pid_t pid = clone(run_child, memory->stack, CLONE_VM | wait_flag | pidfd_flag | SIGCHLD, &memory->plan,
                            &pidfd);
    if (pid < 0) {
        const int error = errno;
        request = std::move(memory->request);
        return {std::nullopt, {SpawnStage::fork, error, -1}};
    }
    // The child's copy of the write end is then the only one: it closes at
    // exec or exit. Closed before anything else is spawned, so that no later
    // child inherits it and holds the pipe open.
    report.write_end.reset();
    return {StartingChild{pid, Fd{pidfd}, std::move(report.read_end), std::move(memory)}, {}};
}

std::optional<SpawnFailure> read_exec_outcome(StartingChild& child, bool wait) {
    SpawnMemory& m = *child.memory;
    for (;;) {
        char discard[sizeof(ChildReport)];
        char* into = m.report_bytes < sizeof m.report ? reinterpret_cast<char*>(&m.report) + m.report_bytes : discard;
        const std::size_t room = m.report_bytes < sizeof m.report ? sizeof m.report - m.report_bytes : sizeof discard;
        const ssize_t n = ::read(child.report.get(), into, room);
        if (n > 0) {
            m.report_bytes += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) {
            if (!wait) return std::nullopt;
            pollfd p{child.report.get(), POLLIN, 0};
            (void)::poll(&p, 1, -1);
            continue;
        }
        if (n < 0) return SpawnFailure{SpawnStage::exec, errno, child.pid};
        break;  // EOF: the child exec'd or exited
    }
    if (m.report_bytes == 0) return SpawnFailure{};
    if (m.report_bytes != sizeof m.report) return SpawnFailure{SpawnStage::exec, EIO, child.pid};
    return SpawnFailure{static_cast<SpawnStage>(m.report.stage), m.report.error, child.pid, m.report.detail};
}

std::string describe_spawn_failure(SpawnStage stage, const std::string& program,
                                   const std::string& working_directory, int detail) {
    switch (stage) {
        case SpawnStage::none: return "started '" + program + "'";
        case SpawnStage::fork: return "cannot start a process for '" + program + "'";
        case SpawnStage::session: return "cannot give '" + program + "' a process group";
        case SpawnStage::stdio: return "cannot set up the standard descriptors of '" + program + "'";
        case SpawnStage::descriptors: return "cannot close foster's descriptors for '" + program + "'";
        case SpawnStage::umask: return "cannot set the umask of '" + program + "'";
        case SpawnStage::chdir: return "cannot change directory to " + working_directory;
        case SpawnStage::groups: return "cannot set the supplementary groups of '" + program + "'";
        case SpawnStage::gid: return "cannot set the group of '" + program + "'";
        case SpawnStage::uid: return "cannot set the user of '" + program + "'";
        case SpawnStage::stdout_file: return "cannot open the stdout file of '" + program + "'";
        case SpawnStage::stderr_file: return "cannot open the stderr file of '" + program + "'";
        case SpawnStage::signals: return "cannot set the signal mask of '" + program + "'";
        case SpawnStage::exec: return "cannot run '" + program + "'";
        case SpawnStage::sockets: return "cannot pass the sockets to '" + program + "'";
        case SpawnStage::limits: return "cannot set " + limit_constant_name(detail);
        case SpawnStage::nice: return "cannot set the nice value of '" + program + "'";
        case SpawnStage::oom_score_adjust: return "cannot set the OOM score adjustment of '" + program + "'";
        case SpawnStage::no_new_privileges: return "cannot set no_new_privileges for '" + program + "'";
    }
    return "cannot run '" + program + "'";
}

std::string describe_spawn_failure(SpawnStage stage, const SpawnRequest& request, int detail) {
    const std::string program = request.argv.empty() ? std::string() : request.argv.front();
    if (stage == SpawnStage::stdout_file) return "cannot open " + request.stdio[1].open_path;
    if (stage == SpawnStage::stderr_file) return "cannot open " + request.stdio[2].open_path;
    return describe_spawn_failure(stage, program, request.working_directory.value_or(""), detail);
}

int exit_status_for_exec_errno(int err) { return err == ENOENT || err == ENOTDIR ? 127 : 126; }

}  // namespace foster
