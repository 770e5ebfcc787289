/* sigwait: the PROGRAM of the signal-forwarding benchmarks.  Blocks SIGUSR1,
 * writes 'R' to stdout when ready, then answers each SIGUSR1 received with
 * sigwaitinfo on stdout:
 *   sigwait        one byte (the round-trip test, sigdrv);
 *   sigwait clock  CLOCK_MONOTONIC taken as soon as sigwaitinfo returns, 8
 *                  bytes of ns (the one-way test, onedrv): the clock is read
 *                  before the write, so what the reply costs is not part of
 *                  the figure.
 * Any other signal acts as usual (SIGTERM ends it).
 * Part of foster's bench/, compiled by bench/entrypoint.py.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    const int send_clock = argc > 1 && strcmp(argv[1], "clock") == 0;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, NULL);
    if (write(1, "R", 1) != 1) return 1;
    for (;;) {
        siginfo_t si;
        if (sigwaitinfo(&s, &si) != SIGUSR1) continue;
        if (!send_clock) {
            if (write(1, "s", 1) != 1) return 1;
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        if (write(1, &ns, sizeof ns) != sizeof ns) return 1;
    }
}
