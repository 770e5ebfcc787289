/* onewait: the PROGRAM of the one-way signal-forwarding benchmark.  Blocks
 * SIGUSR1, writes 'R' to stdout when ready, then for each SIGUSR1 takes
 * CLOCK_MONOTONIC as soon as sigwaitinfo returns and writes it (8 bytes, ns)
 * to stdout.  The clock is read before the write, so what the reply costs is
 * not part of the figure.  Any other signal acts as usual (SIGTERM ends it).
 * Part of foster's bench/, compiled by bench/entrypoint.py.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, NULL);
    if (write(1, "R", 1) != 1) return 1;
    for (;;) {
        siginfo_t si;
        if (sigwaitinfo(&s, &si) != SIGUSR1) continue;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
        if (write(1, &ns, sizeof ns) != sizeof ns) return 1;
    }
}
