/* execdrv: time spawn+exec+wait of several commands, interleaved round-robin.
 *
 *   execdrv OUTFILE ITERS WARMUP CMD1 [ARGS] ::: CMD2 [ARGS] ::: ...
 *
 * Every command is started with posix_spawn (stdout/stderr -> /dev/null,
 * stdin inherited) and waited for with waitpid.  Each iteration runs every
 * command once; the starting command rotates each iteration so that no command
 * always follows the same neighbour.  OUTFILE gets one line per command: the
 * ITERS durations in nanoseconds, separated by spaces.  A command whose exit
 * status is not 0 is reported on stderr and the driver exits 3.
 * Part of foster's bench/, compiled by bench/entrypoint.py.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: execdrv OUTFILE ITERS WARMUP CMD [ARGS] ::: CMD [ARGS] ...\n");
        return 2;
    }
    const char *outfile = argv[1];
    long iters = atol(argv[2]);
    long warm = atol(argv[3]);
    char **cmds[64];
    int ncmd = 0;
    cmds[ncmd++] = &argv[4];
    for (int i = 4; i < argc; i++) {
        if (strcmp(argv[i], ":::") == 0) {
            argv[i] = NULL;
            if (ncmd == 64) { fprintf(stderr, "too many commands\n"); return 2; }
            cmds[ncmd++] = &argv[i + 1];
        }
    }
    long long *t = calloc((size_t)ncmd * (size_t)iters, sizeof *t);
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, devnull, 1);
    posix_spawn_file_actions_adddup2(&fa, devnull, 2);
    int bad = 0;
    for (long it = -warm; it < iters; it++) {
        for (int k = 0; k < ncmd; k++) {
            int c = (int)((k + (it < 0 ? 0 : it)) % ncmd);
            pid_t pid;
            long long t0 = now_ns();
            int rc = posix_spawn(&pid, cmds[c][0], &fa, NULL, cmds[c], environ);
            if (rc != 0) {
                fprintf(stderr, "execdrv: cannot spawn %s: %s\n", cmds[c][0], strerror(rc));
                return 3;
            }
            int st;
            while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
            long long t1 = now_ns();
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                if (bad++ < 5)
                    fprintf(stderr, "execdrv: %s exited with status 0x%x\n", cmds[c][0], st);
            }
            if (it >= 0) t[(size_t)c * iters + it] = t1 - t0;
        }
    }
    FILE *f = fopen(outfile, "w");
    if (!f) { perror(outfile); return 2; }
    for (int c = 0; c < ncmd; c++) {
        for (long i = 0; i < iters; i++) fprintf(f, i ? " %lld" : "%lld", t[(size_t)c * iters + i]);
        fputc('\n', f);
    }
    fclose(f);
    return bad ? 3 : 0;
}
