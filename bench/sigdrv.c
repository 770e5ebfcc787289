/* sigdrv: signal-forwarding round-trip latency, several inits interleaved.
 *
 *   sigdrv [--setsid] OUTFILE ITERS WARMUP SIGWAIT CMD1 [ARGS] ::: CMD2 [ARGS] ::: ...
 *
 * --setsid: each CMD starts in a session of its own, as a container runtime
 * or systemd starts PID 1 (with Debian's sched_autogroup, a scheduling group
 * of its own too); without it every CMD shares sigdrv's session.
 *
 * Each CMD is an init command line that ends just before its PROGRAM (e.g.
 * "/usr/bin/tini -s --"); SIGWAIT (the sigwait helper) is appended as
 * PROGRAM.  A CMD of "-" means the helper alone (baseline: the signal is sent
 * straight to it).  All are started at once with stdout on a pipe of their
 * own; once every helper wrote its 'R', each iteration sends SIGUSR1 to every
 * init's pid in turn (rotating the order) and times, with CLOCK_MONOTONIC,
 * from just before kill() until the helper's byte is read back.  OUTFILE: one
 * line per CMD with ITERS latencies in ns, or "FAIL reason".
 * Part of foster's bench/, compiled by bench/entrypoint.py.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int read1(int fd, int timeout_ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    for (;;) {
        int r = poll(&p, 1, timeout_ms);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        char c;
        ssize_t n = read(fd, &c, 1);
        return n == 1 ? c : -1;
    }
}

int main(int argc, char **argv) {
    int own_session = argc > 1 && strcmp(argv[1], "--setsid") == 0;
    if (own_session) {
        argv++;
        argc--;
    }
    if (argc < 6) { fprintf(stderr, "usage: sigdrv [--setsid] OUTFILE ITERS WARMUP SIGWAIT CMD... [::: CMD...]\n"); return 2; }
    const char *outfile = argv[1];
    long iters = atol(argv[2]), warm = atol(argv[3]);
    char *helper = argv[4];
    enum { MAXC = 32 };
    char *cmdv[MAXC][64];
    int ncmd = 0, na = 0;
    for (int i = 5; i <= argc; i++) {
        if (i == argc || strcmp(argv[i], ":::") == 0) {
            if (na == 1 && strcmp(cmdv[ncmd][0], "-") == 0) na = 0;
            cmdv[ncmd][na++] = helper;
            cmdv[ncmd][na] = NULL;
            ncmd++;
            na = 0;
            if (ncmd == MAXC) break;
        } else if (na < 62) {
            cmdv[ncmd][na++] = argv[i];
        }
    }
    pid_t pid[MAXC] = {0};
    int fd[MAXC], ok[MAXC];
    char fail[MAXC][128];
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    for (int c = 0; c < ncmd; c++) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) { perror("pipe"); return 2; }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, p[1], 1);
        posix_spawn_file_actions_adddup2(&fa, devnull, 2);
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        if (own_session) posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
        int rc = posix_spawn(&pid[c], cmdv[c][0], &fa, &attr, cmdv[c], environ);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&fa);
        close(p[1]);
        fd[c] = p[0];
        ok[c] = rc == 0;
        if (rc) snprintf(fail[c], sizeof fail[c], "spawn: %s", strerror(rc));
    }
    for (int c = 0; c < ncmd; c++)
        if (ok[c] && read1(fd[c], 5000) != 'R') { ok[c] = 0; snprintf(fail[c], sizeof fail[c], "helper never became ready"); }
    long long *t = calloc((size_t)ncmd * (size_t)iters, sizeof *t);
    for (long it = -warm; it < iters; it++) {
        for (int k = 0; k < ncmd; k++) {
            int c = (int)((k + (it < 0 ? 0 : it)) % ncmd);
            if (!ok[c]) continue;
            long long t0 = now_ns();
            kill(pid[c], SIGUSR1);
            int r = read1(fd[c], 2000);
            long long t1 = now_ns();
            if (r < 0) { ok[c] = 0; snprintf(fail[c], sizeof fail[c], "no reply within 2 s (round %ld)", it); continue; }
            if (it >= 0) t[(size_t)c * iters + it] = t1 - t0;
        }
    }
    for (int c = 0; c < ncmd; c++) {
        if (pid[c] > 0) kill(pid[c], SIGTERM);
    }
    for (int c = 0; c < ncmd; c++) {
        if (pid[c] <= 0) continue;
        int st, n = 0;
        while (waitpid(pid[c], &st, WNOHANG) == 0) {
            if (++n == 300) kill(pid[c], SIGKILL); /* 3 s */
            usleep(10000);
        }
    }
    FILE *f = fopen(outfile, "w");
    if (!f) { perror(outfile); return 2; }
    for (int c = 0; c < ncmd; c++) {
        if (!ok[c]) { fprintf(f, "FAIL %s\n", fail[c]); continue; }
        for (long i = 0; i < iters; i++) fprintf(f, i ? " %lld" : "%lld", t[(size_t)c * iters + i]);
        fputc('\n', f);
    }
    fclose(f);
    return 0;
}
