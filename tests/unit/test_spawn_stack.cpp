// The child stack of spawn() is mapped on first use; a failed mapping is not
// remembered, so a spawn after memory came back works. Runs in a forked copy
// of the test process (so the stack is not mapped yet and the address-space
// limit stays there) and spawns /bin/true: the one unit test that starts a
// process, because the failure can only be made real with a real limit.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "spawn.hpp"

namespace {

// Our virtual size in bytes (/proc/self/statm, first field, in pages).
unsigned long virtual_size() {
    std::ifstream statm("/proc/self/statm");
    unsigned long pages = 0;
    statm >> pages;
    return pages * static_cast<unsigned long>(sysconf(_SC_PAGESIZE));
}

// The forked child's checks, as an exit code: 0 all good, else which failed.
int spawn_after_failed_stack() {
    foster::SpawnRequest request;
    request.argv = {"/bin/true"};
    request.envp = {"PATH=/usr/bin:/bin"};
    sigemptyset(&request.mask);
    // Warm up what the spawn allocates, so that under the limit only the
    // 68 KiB stack mapping is refused.
    (void)foster::executable_candidates("/bin/true", request.envp);
    rlimit old{};
    if (getrlimit(RLIMIT_AS, &old) != 0) return 10;
    rlimit tight = old;
    tight.rlim_cur = virtual_size() + 16 * 1024;
    if (setrlimit(RLIMIT_AS, &tight) != 0) return 11;
    const foster::SpawnResult refused = foster::spawn(request);
    if (refused.child) return 12;  // the stack fit after all: nothing tested
    if (refused.failure.stage != foster::SpawnStage::fork || refused.failure.error != ENOMEM) return 13;
    if (setrlimit(RLIMIT_AS, &old) != 0) return 14;
    const foster::SpawnResult started = foster::spawn(request);
    if (!started.child) return 15;  // the failure was cached
    int status = 0;
    if (waitpid(started.child->pid, &status, 0) != started.child->pid) return 16;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 17;
}

}  // namespace

TEST_CASE("a failed child-stack mapping is retried at the next spawn") {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) _exit(spawn_after_failed_stack());
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    // 12: the limit did not refuse the stack (then this test proves nothing);
    // 13: another failure than the stack's; 15: the failure was cached.
    CHECK(WEXITSTATUS(status) == 0);
}

namespace {

// Child stacks in our address space: a 64 KiB read-write mapping right above
// a 4 KiB inaccessible guard page (spawn.cpp's layout).
int child_stacks_mapped() {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    unsigned long guard_end = 0;
    int stacks = 0;
    while (std::getline(maps, line)) {
        unsigned long start = 0, end = 0;
        char perms[5] = {};
        if (std::sscanf(line.c_str(), "%lx-%lx %4s", &start, &end, perms) != 3) continue;
        const std::string p(perms);
        if (p == "rw-p" && start == guard_end && end - start == 64 * 1024) ++stacks;
        guard_end = p == "---p" && end - start == 4096 ? end : 0;
    }
    return stacks;
}

foster::SpawnRequest true_request() {
    foster::SpawnRequest request;
    request.argv = {"/bin/true"};
    request.envp = {"PATH=/usr/bin:/bin"};
    sigemptyset(&request.mask);
    return request;
}

int open_descriptors() {
    int n = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) n += entry.exists() ? 1 : 0;
    return n;
}

}  // namespace

// Crash-looping services restart in bursts: the stacks of one burst are kept
// for the next instead of being unmapped and mapped again (an mmap, mprotect
// and munmap per start, each of the last two a TLB shootdown).
TEST_CASE("the stacks of a burst of starts are kept for the next burst") {
    constexpr int burst = 20;  // under the service runner's 32 in flight
    std::vector<foster::StartingChild> children;
    for (int i = 0; i < burst; ++i) {
        foster::StartResult started = foster::spawn_without_waiting(true_request());
        REQUIRE(started.child);
        children.push_back(std::move(*started.child));
    }
    for (auto& child : children) {
        const auto outcome = foster::read_exec_outcome(child, true);
        REQUIRE(outcome);
        CHECK(outcome->stage == foster::SpawnStage::none);
        int status = 0;
        REQUIRE(waitpid(child.pid, &status, 0) == child.pid);
    }
    children.clear();  // every child exec'd: its memory and stack go back
    CHECK(child_stacks_mapped() >= burst);
}

// After its start-up burst the service runner gives the kept stacks back:
// none stays mapped, and the next burst maps what it needs again.
TEST_CASE("the kept stacks are unmapped on request, and a later start maps one again") {
    for (int i = 0; i < 3; ++i) {
        foster::StartResult started = foster::spawn_without_waiting(true_request());
        REQUIRE(started.child);
        REQUIRE(foster::read_exec_outcome(*started.child, true));
        int status = 0;
        REQUIRE(waitpid(started.child->pid, &status, 0) == started.child->pid);
    }
    REQUIRE(child_stacks_mapped() >= 1);
    foster::release_kept_stacks();
    CHECK(child_stacks_mapped() == 0);
    foster::StartResult again = foster::spawn_without_waiting(true_request());
    REQUIRE(again.child);
    const auto outcome = foster::read_exec_outcome(*again.child, true);
    REQUIRE(outcome);
    CHECK(outcome->stage == foster::SpawnStage::none);
    int status = 0;
    REQUIRE(waitpid(again.child->pid, &status, 0) == again.child->pid);
    CHECK(WIFEXITED(status));
    again.child.reset();
    CHECK(child_stacks_mapped() == 1);
}

// The service runner holds its children by pid and asks for no pidfd: none
// is made, so none is left to close.
TEST_CASE("a child started without a pidfd leaves no descriptor behind") {
    foster::SpawnRequest request = true_request();
    request.pidfd = false;
    const int before = open_descriptors();
    foster::SpawnResult started = foster::spawn(request);
    REQUIRE(started.child);
    CHECK_FALSE(started.child->pidfd.valid());
    CHECK(open_descriptors() == before);
    int status = 0;
    REQUIRE(waitpid(started.child->pid, &status, 0) == started.child->pid);

    foster::SpawnRequest request2 = true_request();
    request2.pidfd = false;
    foster::StartResult starting = foster::spawn_without_waiting(std::move(request2));
    REQUIRE(starting.child);
    CHECK_FALSE(starting.child->pidfd.valid());
    REQUIRE(foster::read_exec_outcome(*starting.child, true));
    REQUIRE(waitpid(starting.child->pid, &status, 0) == starting.child->pid);

    // The default still holds the child by a pidfd (PROGRAM is signalled through it).
    foster::SpawnResult held = foster::spawn(true_request());
    REQUIRE(held.child);
    CHECK(held.child->pidfd.valid());
    REQUIRE(waitpid(held.child->pid, &status, 0) == held.child->pid);
}
