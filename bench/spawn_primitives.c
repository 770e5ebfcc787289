/* spawn_primitives: how long does it take a parent holding N MiB of touched
 * heap to start /bin/true and wait for it, by primitive?
 *
 *   spawn_primitives [-t SECONDS_PER_CELL=1.0] [-p PROGRAM=/bin/true] [SIZE_MIB...=2 50 500]
 *
 * Primitives, interleaved round-robin within each heap size:
 *   fork       fork() + execve() in the child
 *   vfork      vfork() + execve()
 *   clone_vm   clone(CLONE_VM|CLONE_VFORK|SIGCHLD) on a private 64 KiB stack + execve()
 *   posix_spawn glibc posix_spawn() (itself clone(CLONE_VM|CLONE_VFORK) since glibc 2.24)
 * Each measurement is spawn + exec + waitpid of PROGRAM, CLOCK_MONOTONIC.
 * The heap is one anonymous private mapping with MADV_NOHUGEPAGE (4 KiB
 * pages, as a long-lived heap mostly is), every page written before timing.
 * Output: a table, then one machine-readable line per cell:
 *   RESULT size_mib=N method=NAME iters=N mean_us=X median_us=X
 * Part of foster's bench/, compiled by bench/entrypoint.py.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
static char *prog = "/bin/true";
static char *args[2];

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void wait_ok(pid_t p) {
    int st;
    while (waitpid(p, &st, 0) < 0)
        if (errno != EINTR) { perror("waitpid"); exit(3); }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) { fprintf(stderr, "child failed: 0x%x\n", st); exit(3); }
}

static pid_t do_fork(void) {
    pid_t p = fork();
    if (p == 0) { execve(prog, args, environ); _exit(127); }
    return p;
}

static pid_t do_vfork(void) {
    pid_t p = vfork();
    if (p == 0) { execve(prog, args, environ); _exit(127); }
    return p;
}

static char *cstack;
static int child_fn(void *arg) {
    (void)arg;
    execve(prog, args, environ);
    _exit(127);
}
static pid_t do_clone(void) {
    return clone(child_fn, cstack + 65536, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
}

static pid_t do_spawn(void) {
    pid_t p;
    int rc = posix_spawn(&p, prog, NULL, NULL, args, environ);
    if (rc) { errno = rc; return -1; }
    return p;
}

struct method { const char *name; pid_t (*fn)(void); };
static const struct method methods[] = {
    {"fork", do_fork}, {"vfork", do_vfork}, {"clone_vm", do_clone}, {"posix_spawn", do_spawn},
};
enum { NM = sizeof methods / sizeof methods[0] };

static int cmp(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    double secs = 1.0;
    int opt;
    while ((opt = getopt(argc, argv, "t:p:")) != -1) {
        if (opt == 't') secs = atof(optarg);
        else if (opt == 'p') prog = optarg;
        else { fprintf(stderr, "usage: spawn_primitives [-t SECONDS] [-p PROGRAM] [SIZE_MIB...]\n"); return 2; }
    }
    args[0] = prog;
    long sizes[16];
    int ns = 0;
    for (int i = optind; i < argc && ns < 16; i++) sizes[ns++] = atol(argv[i]);
    if (ns == 0) { sizes[0] = 2; sizes[1] = 50; sizes[2] = 500; ns = 3; }
    cstack = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    enum { MAXI = 100000 };
    long long *t = malloc(sizeof(long long) * NM * MAXI);
    double res[16][NM][2];
    long cnt[16];
    for (int s = 0; s < ns; s++) {
        size_t len = (size_t)sizes[s] << 20;
        char *heap = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (heap == MAP_FAILED) { perror("mmap"); return 3; }
        madvise(heap, len, MADV_NOHUGEPAGE);
        for (size_t o = 0; o < len; o += 4096) heap[o] = (char)o;
        /* warm-up */
        for (int m = 0; m < NM; m++)
            for (int w = 0; w < 3; w++) wait_ok(methods[m].fn());
        long long start = now_ns(), budget = (long long)(secs * 1e9) * NM;
        long it = 0;
        while (it < MAXI && (it < 5 || now_ns() - start < budget)) {
            for (int k = 0; k < NM; k++) {
                int m = (int)((k + it) % NM);
                long long t0 = now_ns();
                pid_t p = methods[m].fn();
                if (p < 0) { perror(methods[m].name); return 3; }
                wait_ok(p);
                t[m * MAXI + it] = now_ns() - t0;
            }
            it++;
        }
        cnt[s] = it;
        for (int m = 0; m < NM; m++) {
            long long *v = &t[m * MAXI];
            double sum = 0;
            for (long i = 0; i < it; i++) sum += (double)v[i];
            qsort(v, (size_t)it, sizeof *v, cmp);
            res[s][m][0] = sum / (double)it / 1e3;
            res[s][m][1] = (it % 2 ? (double)v[it / 2] : ((double)v[it / 2 - 1] + (double)v[it / 2]) / 2) / 1e3;
        }
        munmap(heap, len);
    }
    printf("spawn+exec+wait of %s, mean (median) us, heap touched, 4 KiB pages\n", prog);
    printf("| heap | iters |");
    for (int m = 0; m < NM; m++) printf(" %s |", methods[m].name);
    printf("\n|---|---|");
    for (int m = 0; m < NM; m++) printf("---|");
    printf("\n");
    for (int s = 0; s < ns; s++) {
        printf("| %ld MiB | %ld |", sizes[s], cnt[s]);
        for (int m = 0; m < NM; m++) printf(" %.0f (%.0f) |", res[s][m][0], res[s][m][1]);
        printf("\n");
    }
    for (int s = 0; s < ns; s++)
        for (int m = 0; m < NM; m++)
            printf("RESULT size_mib=%ld method=%s iters=%ld mean_us=%.1f median_us=%.1f\n",
                   sizes[s], methods[m].name, cnt[s], res[s][m][0], res[s][m][1]);
    return 0;
}
