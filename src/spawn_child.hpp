// spawn_child.hpp — the only code that runs between clone and exec.
//
// It runs in a child that shares foster's memory (CLONE_VM) on a stack of its
// own, so it may touch nothing but the plan and its own stack: no
// allocation, no locks, no errno, no C++ runtime. Services' children run
// alongside foster (no CLONE_VFORK: spawn_without_waiting), so this holds
// while foster goes on changing its own memory. System calls are made
// directly (the syscall instruction, see spawn_child.cpp) so that no
// interposed wrapper (a sanitizer's, or glibc's set*id broadcast) runs in the
// child and nothing writes foster's errno.
#pragma once

// The architectures whose child makes its system calls without glibc (and so
// never writes errno): only there may a child run alongside foster.
#if defined(__x86_64__) || defined(__aarch64__)
#define FOSTER_RAW_CHILD_SYSCALLS 1
#else
#define FOSTER_RAW_CHILD_SYSCALLS 0
#endif

#include <signal.h>
#include <sys/types.h>

#include <cstdint>

#include "spawn.hpp"

namespace foster {

// The kernel's struct rlimit64 for prlimit64(2), with the RLIMIT_* it sets.
struct ChildLimit {
    int resource;
    std::uint64_t soft;
    std::uint64_t hard;
};

// The flat form of a SpawnRequest: pointers into storage owned by the parent.
struct ChildPlan {
    const char* const* argv;
    char* const* envp;
    const char* const* exec_candidates;  // null-terminated
    ProcessGroup group;
    bool take_terminal;
    sigset_t mask;
    sigset_t reset_to_default;
    sigset_t ignore;
    const int* keep_fds;  // sorted ascending
    int keep_fd_count;
    int stdio_source[3];  // -1: keep
    const char* open_path[3];  // opened after dropping privileges, or nullptr
    bool stderr_copies_stdout;
    const char* working_directory;  // or nullptr
    bool set_umask;
    mode_t umask_value;
    bool set_ids;
    uid_t uid;
    gid_t gid;
    const gid_t* groups;
    int group_count;
    const int* pass_fds;  // to be placed at 3, 4, ...
    int pass_fd_count;
    int* pass_scratch;    // pass_fd_count ints the child may write (shared memory)
    char* listen_pid_digits;  // where the child writes its pid, or nullptr
    const ChildLimit* limits;  // set with prlimit64, in order
    int limit_count;
    bool set_nice;
    int nice_value;
    const char* oom_score_adj_path;  // "/proc/self/oom_score_adj", or nullptr
    const char* oom_score_adj_text;  // the value as text
    int oom_score_adj_length;
    bool no_new_privileges;
    int report_fd;            // close-on-exec pipe: {stage, errno} on failure
};

// What the child writes to report_fd when a step fails.
struct ChildReport {
    int stage;
    int error;
    int detail;  // SpawnFailure::detail
};

// The child's entry point (clone's fn). Never returns.
[[noreturn]] int run_child(void* plan) noexcept;

}  // namespace foster
