// spawn_child.cpp — see spawn_child.hpp. Every call here is a raw system call
// on data prepared by the parent; the function ends in execve or _exit.
#include "spawn_child.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <type_traits>

namespace foster {

namespace {

// The kernel's struct sigaction for rt_sigaction (not glibc's).
struct KernelSigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    std::uint64_t mask;
};

constexpr std::size_t kernel_sigset_size = 8;

// The system call itself, its failure as a negative errno. Without
// CLONE_VFORK the child shares foster's memory while foster runs on, and
// glibc's syscall(2) would store a failure in errno, which is foster's
// thread-local errno (the child has no TLS of its own): the architectures
// below get the instruction itself, so the child writes nothing but its plan
// scratch and its own stack. Elsewhere the child keeps syscall(2) and spawn()
// keeps waiting for the exec (spawn_child_shares_nothing).
#if FOSTER_RAW_CHILD_SYSCALLS
#if defined(__x86_64__)
long raw_syscall(long number, long a, long b, long c, long d, long e) noexcept {
    long result;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    __asm__ volatile("syscall"
                     : "=a"(result)
                     : "a"(number), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
                     : "rcx", "r11", "memory");
    return result;
}
#elif defined(__aarch64__)
long raw_syscall(long number, long a, long b, long c, long d, long e) noexcept {
    register long x8 __asm__("x8") = number;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4) : "memory");
    return x0;
}
#endif
#else
long raw_syscall(long number, long a, long b, long c, long d, long e) noexcept {
    const long r = syscall(number, a, b, c, d, e);
    return r < 0 ? -errno : r;
}
#endif

// The syscall's result, with a failure as a negative errno.
long sys(long number, long a = 0, long b = 0, long c = 0, long d = 0) noexcept {
    return raw_syscall(number, a, b, c, d, 0);
}

// prctl with all five arguments: prctl rejects non-zero unused ones.
long sys_prctl(long option, long a) noexcept { return raw_syscall(SYS_prctl, option, a, 0L, 0L, 0L); }

template <typename T>
long arg(T value) noexcept {
    if constexpr (std::is_pointer_v<T>) return reinterpret_cast<long>(value);
    else return static_cast<long>(value);
}

[[noreturn]] void fail(const ChildPlan& plan, SpawnStage stage, long negative_errno, int detail = 0) noexcept {
    const ChildReport report{static_cast<int>(stage), static_cast<int>(-negative_errno), detail};
    // A short write is impossible for 12 bytes into an empty pipe.
    sys(SYS_write, plan.report_fd, arg(&report), sizeof report);
    sys(SYS_exit_group, 127);
    __builtin_unreachable();
}

void join_group(const ChildPlan& plan) noexcept {
    if (plan.group == ProcessGroup::new_session) {
        if (const long r = sys(SYS_setsid); r < 0) fail(plan, SpawnStage::session, r);
    } else {
        if (const long r = sys(SYS_setpgid, 0, 0); r < 0) fail(plan, SpawnStage::session, r);
    }
    if (plan.take_terminal) {
        // Every signal is still blocked here (inherited from foster), so the
        // SIGTTOU a background group gets from tcsetpgrp cannot stop us. A
        // failure (no terminal after all) is not worth refusing to start over.
        const pid_t self = static_cast<pid_t>(sys(SYS_getpid));
        sys(SYS_ioctl, STDIN_FILENO, TIOCSPGRP, arg(&self));
    }
}

void set_up_stdio(const ChildPlan& plan) noexcept {
    for (int slot = 0; slot < 3; ++slot) {
        const int source = plan.stdio_source[slot];
        if (source < 0) continue;
        if (const long r = sys(SYS_dup3, source, slot, 0); r < 0) fail(plan, SpawnStage::stdio, r);
    }
}

// Puts plan.pass_fds at 3, 4, ... First every source is copied above the
// targets (a source may sit on another's target), then each copy is moved
// onto its slot; dup3 without O_CLOEXEC makes the slot survive exec, and the
// copies, close-on-exec, vanish at exec. The parent keeps report_fd above
// the targets too.
void pass_descriptors(const ChildPlan& plan) noexcept {
    const int n = plan.pass_fd_count;
    for (int i = 0; i < n; ++i) {
        const long r = sys(SYS_fcntl, plan.pass_fds[i], F_DUPFD_CLOEXEC, 3 + n);
        if (r < 0) fail(plan, SpawnStage::sockets, r);
        plan.pass_scratch[i] = static_cast<int>(r);
    }
    for (int i = 0; i < n; ++i)
        if (const long r = sys(SYS_dup3, plan.pass_scratch[i], 3 + i, 0); r < 0) fail(plan, SpawnStage::sockets, r);
}

// Marks every descriptor above 2 close-on-exec except plan.keep_fds, so only
// what the child is meant to have survives execve. The report pipe stays
// usable until then.
void close_other_descriptors(const ChildPlan& plan) noexcept {
    unsigned int from = 3;
    for (int i = 0; i <= plan.keep_fd_count; ++i) {
        const unsigned int to = i < plan.keep_fd_count ? static_cast<unsigned int>(plan.keep_fds[i]) : UINT_MAX;
        if (to > from) {
            const long r = sys(SYS_close_range, from, to - 1, CLOSE_RANGE_CLOEXEC);
            if (r < 0) fail(plan, SpawnStage::descriptors, r);
        }
        if (i < plan.keep_fd_count) from = to + 1;
    }
}

void set_up_environment(const ChildPlan& plan) noexcept {
    if (plan.set_umask) sys(SYS_umask, plan.umask_value);
    if (plan.working_directory != nullptr)
        if (const long r = sys(SYS_chdir, arg(plan.working_directory)); r < 0) fail(plan, SpawnStage::chdir, r);
}

// Limits, priority and OOM score, while we still have foster's privileges
// (raising a hard limit, lowering nice or the OOM score need them).
void apply_process_settings(const ChildPlan& plan) noexcept {
    for (int i = 0; i < plan.limit_count; ++i) {
        const ChildLimit& limit = plan.limits[i];
        const std::uint64_t value[2] = {limit.soft, limit.hard};  // struct rlimit64
        if (const long r = sys(SYS_prlimit64, 0, limit.resource, arg(value), 0); r < 0)
            fail(plan, SpawnStage::limits, r, limit.resource);
    }
    if (plan.set_nice)
        if (const long r = sys(SYS_setpriority, PRIO_PROCESS, 0, plan.nice_value); r < 0)
            fail(plan, SpawnStage::nice, r);
    if (plan.oom_score_adj_path != nullptr) {
        const long fd = sys(SYS_openat, AT_FDCWD, arg(plan.oom_score_adj_path), O_WRONLY | O_CLOEXEC);
        if (fd < 0) fail(plan, SpawnStage::oom_score_adjust, fd);
        const long r = sys(SYS_write, fd, arg(plan.oom_score_adj_text), plan.oom_score_adj_length);
        sys(SYS_close, fd);
        if (r < 0) fail(plan, SpawnStage::oom_score_adjust, r);
    }
}

// Once set it holds across exec and cannot be undone; after the credentials
// change, which it does not affect either way.
void forbid_new_privileges(const ChildPlan& plan) noexcept {
    if (!plan.no_new_privileges) return;
    if (const long r = sys_prctl(PR_SET_NO_NEW_PRIVS, 1); r < 0)
        fail(plan, SpawnStage::no_new_privileges, r);
}

// Groups, then gid, then uid: once the uid is dropped the others can no
// longer be changed.
void drop_privileges(const ChildPlan& plan) noexcept {
    if (!plan.set_ids) return;
    if (const long r = sys(SYS_setgroups, plan.group_count, arg(plan.groups)); r < 0)
        fail(plan, SpawnStage::groups, r);
    if (const long r = sys(SYS_setresgid, plan.gid, plan.gid, plan.gid); r < 0) fail(plan, SpawnStage::gid, r);
    if (const long r = sys(SYS_setresuid, plan.uid, plan.uid, plan.uid); r < 0) fail(plan, SpawnStage::uid, r);
}

// Puts a descriptor the child opened on `slot`, without close-on-exec.
void place_on_slot(const ChildPlan& plan, long fd, int slot, SpawnStage stage) noexcept {
    if (fd == slot) {  // foster had the slot closed: clear O_CLOEXEC in place
        if (const long r = sys(SYS_fcntl, fd, F_SETFD, 0); r < 0) fail(plan, stage, r);
        return;
    }
    if (const long r = sys(SYS_dup3, fd, slot, 0); r < 0) fail(plan, stage, r);
    sys(SYS_close, fd);
}

// `stdout = "/path"`: opened here, after drop_privileges, so the service's
// user (not foster's) decides what can be written, and O_NOFOLLOW refuses a
// symlink planted in its place. stderr = "stdout" copies slot 1 afterwards,
// so one open serves both.
void open_output_files(const ChildPlan& plan) noexcept {
    constexpr long flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW;
    for (int slot = 1; slot < 3; ++slot) {
        if (slot == 2 && plan.stderr_copies_stdout)
            if (const long r = sys(SYS_dup3, STDOUT_FILENO, STDERR_FILENO, 0); r < 0) fail(plan, SpawnStage::stdio, r);
        const char* path = plan.open_path[slot];
        if (path == nullptr) continue;
        const SpawnStage stage = slot == 1 ? SpawnStage::stdout_file : SpawnStage::stderr_file;
        const long fd = sys(SYS_openat, AT_FDCWD, arg(path), flags, 0644);
        if (fd < 0) fail(plan, stage, fd);
        place_on_slot(plan, fd, slot, stage);
    }
}

std::uint64_t to_kernel_set(const sigset_t& set) noexcept {
    std::uint64_t bits = 0;
    for (int sig = 1; sig <= 64; ++sig)
        if (sigismember(&set, sig) == 1) bits |= std::uint64_t{1} << (sig - 1);
    return bits;
}

// Last step before exec: dispositions first, then the mask, so a signal that
// was pending is delivered with the disposition the program is owed.
void set_up_signals(const ChildPlan& plan) noexcept {
    const KernelSigaction default_action{SIG_DFL, 0, nullptr, 0};
    const KernelSigaction ignore_action{SIG_IGN, 0, nullptr, 0};
    for (int sig = 1; sig <= 64; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        if (sigismember(&plan.ignore, sig) == 1)
            sys(SYS_rt_sigaction, sig, arg(&ignore_action), 0, kernel_sigset_size);
        else if (sigismember(&plan.reset_to_default, sig) == 1)
            sys(SYS_rt_sigaction, sig, arg(&default_action), 0, kernel_sigset_size);
    }
    const std::uint64_t mask = to_kernel_set(plan.mask);
    if (const long r = sys(SYS_rt_sigprocmask, SIG_SETMASK, arg(&mask), 0, kernel_sigset_size); r < 0)
        fail(plan, SpawnStage::signals, r);
}

void write_listen_pid(const ChildPlan& plan) noexcept {
    if (plan.listen_pid_digits == nullptr) return;
    char digits[16];
    int n = 0;
    for (auto pid = static_cast<unsigned long>(sys(SYS_getpid)); pid > 0 || n == 0; pid /= 10)
        digits[n++] = static_cast<char>('0' + pid % 10);
    char* out = plan.listen_pid_digits;
    while (n > 0) *out++ = digits[--n];
    *out = '\0';
}

// execvp's rules without its allocations: try each candidate; remember
// EACCES (found but not executable) over a later ENOENT.
[[noreturn]] void exec_program(const ChildPlan& plan) noexcept {
    long saved = -ENOENT;
    for (const char* const* path = plan.exec_candidates; *path != nullptr; ++path) {
        const long r = sys(SYS_execve, arg(*path), arg(plan.argv), arg(plan.envp));
        if (r == -EACCES) saved = r;
        else if (r != -ENOENT && r != -ENOTDIR) {
            saved = r;
            break;
        }
    }
    fail(plan, SpawnStage::exec, saved);
}

}  // namespace

// Not instrumented: the child runs on a stack the sanitizers do not know,
// in memory shared with a parent that is suspended.
__attribute__((no_sanitize("address", "undefined")))
int run_child(void* raw_plan) noexcept {
    const ChildPlan& plan = *static_cast<const ChildPlan*>(raw_plan);
    join_group(plan);
    set_up_stdio(plan);
    pass_descriptors(plan);
    close_other_descriptors(plan);
    set_up_environment(plan);
    apply_process_settings(plan);
    drop_privileges(plan);
    open_output_files(plan);
    forbid_new_privileges(plan);
    write_listen_pid(plan);
    set_up_signals(plan);
    exec_program(plan);
}

}  // namespace foster
