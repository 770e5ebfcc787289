/* spew N REPORT: writes N numbered lines of 64 bytes to stdout as fast as it
 * can (64 KiB writes), then its own CPU time (user+sys, microseconds) to
 * REPORT, so the runner can tell the producer's CPU from the logger's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void write_all(const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(1, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) _exit(1);
        p += w;
        n -= (size_t)w;
    }
}

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    long n = atol(argv[1]);
    static char buf[65536];
    size_t used = 0;
    for (long i = 0; i < n; i++) {
        if (used + 64 > sizeof buf) {
            write_all(buf, used);
            used = 0;
        }
        /* 9 digits, a space, 53 letters, newline: 64 bytes (no NUL) */
        char line[65];
        snprintf(line, sizeof line, "%09ld abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyza\n", i);
        memcpy(buf + used, line, 64);
        used += 64;
    }
    write_all(buf, used);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    FILE *f = fopen(argv[2], "w");
    if (!f) return 1;
    fprintf(f, "%ld\n", (long)(ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1000000L +
                               ru.ru_stime.tv_usec));
    fclose(f);
    return 0;
}
