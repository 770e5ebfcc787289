/* onedrv: one-way signal-forwarding latency after an idle gap, several inits
 * interleaved.
 *
 *   onedrv OUTFILE TRIPS WARMUP IDLE_US PID:FD [PID:FD ...]
 *
 * Each PID is an init (or onewait itself, the baseline) already running
 * onewait as its PROGRAM; FD is the read end of onewait's stdout, inherited
 * from the runner.  Once every onewait wrote its 'R', each round visits every
 * target in turn (rotating the order): sleep IDLE_US, so the machine goes
 * idle, take CLOCK_MONOTONIC, kill(PID, SIGUSR1), and read back the clock
 * onewait took right after its sigwaitinfo returned.  The difference is one
 * trip.  OUTFILE: one line per target with TRIPS latencies in ns, or
 * "FAIL reason".
 * Part of foster's bench/, compiled by bench/entrypoint.py.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Reads exactly n bytes within timeout_ms; 0 on success. */
static int read_exact(int fd, void *buf, size_t n, int timeout_ms) {
    size_t got = 0;
    int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;
    while (got < n) {
        int left = (int)((deadline - now_ns()) / 1000000);
        if (left < 0) return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, left);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        ssize_t k = read(fd, (char *)buf + got, n - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        got += (size_t)k;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage: onedrv OUTFILE TRIPS WARMUP IDLE_US PID:FD...\n"); return 2; }
    const char *outfile = argv[1];
    long trips = atol(argv[2]), warm = atol(argv[3]);
    long idle_us = atol(argv[4]);
    int n = argc - 5;
    pid_t *pid = calloc((size_t)n, sizeof *pid);
    int *fd = calloc((size_t)n, sizeof *fd), *ok = calloc((size_t)n, sizeof *ok);
    char (*fail)[128] = calloc((size_t)n, sizeof *fail);
    int64_t *t = calloc((size_t)n * (size_t)trips, sizeof *t);
    if (!pid || !fd || !ok || !fail || !t) { perror("calloc"); return 2; }
    for (int c = 0; c < n; c++) {
        if (sscanf(argv[5 + c], "%d:%d", &pid[c], &fd[c]) != 2) { fprintf(stderr, "bad target %s\n", argv[5 + c]); return 2; }
        char r;
        ok[c] = read_exact(fd[c], &r, 1, 5000) == 0 && r == 'R';
        if (!ok[c]) snprintf(fail[c], sizeof fail[c], "PROGRAM never became ready");
    }
    const struct timespec gap = {.tv_sec = idle_us / 1000000, .tv_nsec = (idle_us % 1000000) * 1000};
    for (long it = -warm; it < trips; it++) {
        for (int k = 0; k < n; k++) {
            int c = (int)((k + (it < 0 ? 0 : it)) % n);
            if (!ok[c]) continue;
            clock_nanosleep(CLOCK_MONOTONIC, 0, &gap, NULL);
            int64_t t0 = now_ns(), t1;
            if (kill(pid[c], SIGUSR1) != 0) {
                ok[c] = 0;
                snprintf(fail[c], sizeof fail[c], "kill: %s (round %ld)", strerror(errno), it);
                continue;
            }
            if (read_exact(fd[c], &t1, sizeof t1, 2000) != 0) {
                ok[c] = 0;
                snprintf(fail[c], sizeof fail[c], "no reply within 2 s (round %ld)", it);
                continue;
            }
            if (it >= 0) t[(size_t)c * trips + it] = t1 - t0;
        }
    }
    FILE *f = fopen(outfile, "w");
    if (!f) { perror(outfile); return 2; }
    for (int c = 0; c < n; c++) {
        if (!ok[c]) { fprintf(f, "FAIL %s\n", fail[c]); continue; }
        for (long i = 0; i < trips; i++) fprintf(f, i ? " %lld" : "%lld", (long long)t[(size_t)c * trips + i]);
        fputc('\n', f);
    }
    fclose(f);
    return 0;
}
