/* sigwait: the PROGRAM of the signal-forwarding benchmark.  Blocks SIGUSR1,
 * writes 'R' to stdout when ready, then for each SIGUSR1 received with
 * sigwaitinfo writes one byte to stdout.  Any other signal acts as usual
 * (SIGTERM ends it).
 * Part of foster's bench/, compiled by bench/entrypoint.py.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <unistd.h>

int main(void) {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigprocmask(SIG_BLOCK, &s, NULL);
    if (write(1, "R", 1) != 1) return 1;
    for (;;) {
        siginfo_t si;
        if (sigwaitinfo(&s, &si) == SIGUSR1 && write(1, "s", 1) != 1) return 1;
    }
}
