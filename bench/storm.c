/* storm: an orphan storm, run as PROGRAM under an init that is PID 1 of a
 * fresh pid namespace (with its own /proc mounted, `unshare --pid --fork
 * --mount-proc`).
 *
 *   storm [TOTAL=20000] [BATCH=100] [SPAWNERS=1]
 *
 * Protocol on stdin/stdout (pipes held by the benchmark runner):
 *   1. waits for one byte on stdin (the go signal: the runner has attached
 *      its sampler to the init);
 *   2. creates TOTAL orphans: a child forks BATCH grandchildren, which _exit(0)
 *      at once, and then exits itself; storm reaps the child, so every
 *      grandchild is re-parented to the init (PID 1), alive or already a
 *      zombie.  Batches keep the number of live pids well below pid_max; a
 *      fork that fails with EAGAIN is retried after 200 us and counted.
 *      With SPAWNERS > 1, that many children of storm do this at once (each
 *      claims the next BATCH of the TOTAL), so orphans exit on every CPU
 *      while storm waits for the spawners;
 *   3. polls /proc (the namespace's) until no process but PID 1 and storm
 *      itself is left, i.e. the init has reaped every orphan;
 *   4. prints "created=N eagain=N create_ns=N drain_ns=N total_ns=N" on
 *      stdout (drain_ns=-1 when not drained within 60 s);
 *   5. waits for one more byte (or EOF) on stdin, so that the runner can read
 *      the init's CPU time while the init is still alive, then exits 0.
 * Part of foster's bench/, compiled by bench/entrypoint.py.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* processes in this pid namespace other than PID 1 and ourselves */
static int others(pid_t self) {
    DIR *d = opendir("/proc");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        long p = atol(e->d_name);
        if (p != 1 && p != self) n++;
    }
    closedir(d);
    return n;
}

/* Makes orphans until TOTAL have been claimed: BATCH at a time, each batch
 * by a child that forks them and exits.  Returns 0, or 3 on failure. */
static int spawn(long total, long batch, _Atomic long *made, _Atomic long *eagain, _Atomic long *claimed) {
    for (;;) {
        long first = atomic_fetch_add(claimed, batch);
        if (first >= total) return 0;
        long n = total - first < batch ? total - first : batch;
        pid_t ch;
        while ((ch = fork()) < 0) {
            if (errno != EAGAIN) { perror("storm: fork"); return 3; }
            atomic_fetch_add(eagain, 1);
            usleep(200);
        }
        if (ch == 0) {
            for (long i = 0; i < n;) {
                pid_t g = fork();
                if (g == 0) _exit(0);
                if (g < 0) {
                    if (errno != EAGAIN) _exit(1);
                    atomic_fetch_add(eagain, 1);
                    usleep(200);
                    continue;
                }
                atomic_fetch_add(made, 1);
                i++;
            }
            _exit(0);
        }
        int st;
        while (waitpid(ch, &st, 0) < 0 && errno == EINTR) {}
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) { fprintf(stderr, "storm: batch failed\n"); return 3; }
    }
}

int main(int argc, char **argv) {
    long total = argc > 1 ? atol(argv[1]) : 20000;
    long batch = argc > 2 ? atol(argv[2]) : 100;
    long spawners = argc > 3 ? atol(argv[3]) : 1;
    char c;
    if (read(0, &c, 1) != 1) return 2;
    _Atomic long *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    _Atomic long *made = &shared[0], *eagain = &shared[1], *claimed = &shared[2];
    pid_t self = getpid();
    long long t0 = now_ns();
    if (spawners <= 1) {
        if (spawn(total, batch, made, eagain, claimed) != 0) return 3;
    } else {
        for (long k = 0; k < spawners; k++) {
            pid_t sp = fork();
            if (sp < 0) { perror("storm: fork"); return 3; }
            if (sp == 0) _exit(spawn(total, batch, made, eagain, claimed));
        }
        for (long k = 0; k < spawners; k++) {
            int st;
            pid_t w;
            while ((w = wait(&st)) < 0 && errno == EINTR) {}
            if (w < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) { fprintf(stderr, "storm: spawner failed\n"); return 3; }
        }
    }
    long long t1 = now_ns(), t2 = -1;
    for (;;) {
        int n = others(self);
        long long t = now_ns();
        if (n == 0) { t2 = t; break; }
        if (t - t1 > 60000000000LL) break;
        usleep(100);
    }
    printf("created=%ld eagain=%ld create_ns=%lld drain_ns=%lld total_ns=%lld\n",
           atomic_load(made), atomic_load(eagain), t1 - t0,
           t2 < 0 ? -1 : t2 - t1, t2 < 0 ? -1 : t2 - t0);
    fflush(stdout);
    ssize_t r = read(0, &c, 1);
    (void)r;
    return 0;
}
