/* nosuper: the machine's own floor for starting and stopping N services, with
 * no supervisor at all, for bench/services.py's `thousand` test.
 *
 *   nosuper N MARKER_DIR SVC
 *
 * Forks one spawner per CPU. Each posix_spawns its share of `SVC
 * MARKER_DIR/nNNNNN` (services i, i+P, i+2P, ...) as fast as it can and keeps
 * nothing about them but the pid. On SIGTERM nosuper tells every spawner to
 * stop (SIGTERM), and each spawner sends SIGTERM to all of its services first
 * and only then reaps them, so that the services end in parallel on every
 * CPU; nosuper exits when every spawner has. Timed by services.py the same way
 * as the supervisors: launch -> last marker, SIGTERM -> every process gone.
 * No restart, no state, no socket, no log: what any supervisor adds to these
 * two figures is on top of this.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t stop_asked;

static void on_term(int sig) {
    (void)sig;
    stop_asked = 1;
}

static void spawner(int first, int step, int n, const char *dir, const char *svc, sigset_t *waitset) {
    pid_t *pids = calloc((size_t)n / (size_t)step + 1, sizeof *pids);
    int count = 0;
    char marker[4096];
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);  /* the services get no blocked signal */
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    for (int i = first; i < n && !stop_asked; i += step) {
        snprintf(marker, sizeof marker, "%s/n%05d", dir, i);
        char *argv[] = {(char *)svc, marker, NULL};
        if (posix_spawn(&pids[count], svc, NULL, &attr, argv, environ) == 0) count++;
    }
    /* Blocked again before the flag is read: a SIGTERM that came during the
     * spawns set it; one that comes now waits in sigwait. */
    sigprocmask(SIG_BLOCK, waitset, NULL);
    int sig;
    if (!stop_asked) sigwait(waitset, &sig);
    for (int i = 0; i < count; i++) kill(pids[i], SIGTERM);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {
    }
    _exit(0);
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: nosuper N MARKER_DIR SVC\n");
        return 2;
    }
    int n = atoi(argv[1]);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int spawners = cpus > 0 ? (int)cpus : 1;
    /* SIGTERM blocked except while waiting for it: it can come at any time. */
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigprocmask(SIG_BLOCK, &term, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    pid_t kids[256];
    if (spawners > 256) spawners = 256;
    for (int s = 0; s < spawners; s++) {
        kids[s] = fork();
        if (kids[s] == 0) {
            /* Checked between spawns: unblocked while spawning. */
            sigprocmask(SIG_UNBLOCK, &term, NULL);
            spawner(s, spawners, n, argv[2], argv[3], &term);
        }
    }
    int sig;
    sigwait(&term, &sig);
    for (int s = 0; s < spawners; s++) kill(kids[s], SIGTERM);
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {
    }
    return 0;
}
