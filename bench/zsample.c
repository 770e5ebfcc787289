/* zsample: samples the children of one process (the init, by host pid) from
 * outside its pid namespace and counts those in state Z (zombies).
 *
 *   zsample PID [INTERVAL_US=500]
 *
 * Prints "ready" once started; samples every INTERVAL_US until stdin reaches
 * EOF (or a byte arrives) or PID is gone, then prints
 * "peak_zombies=N peak_children=N samples=N".  Children are read from
 * /proc/PID/task/TID/children for every thread of PID; each child's state from
 * /proc/CHILD/stat.
 * Part of foster's bench/, compiled by bench/entrypoint.py.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char buf[1 << 20];

static int state_of(const char *pid) {
    char path[64], st[512];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, st, sizeof st - 1);
    close(fd);
    if (n <= 0) return 0;
    st[n] = 0;
    char *p = strrchr(st, ')');
    return p && p[1] == ' ' ? p[2] : 0;
}

/* returns -1 when PID is gone */
static int sample(const char *pid, int *children) {
    char path[320];
    snprintf(path, sizeof path, "/proc/%s/task", pid);
    DIR *d = opendir(path);
    if (!d) return -1;
    int z = 0, all = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "/proc/%s/task/%s/children", pid, e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        size_t len = 0;
        ssize_t n;
        while (len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0) len += (size_t)n;
        close(fd);
        buf[len] = 0;
        char *save = NULL;
        for (char *tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
            all++;
            if (state_of(tok) == 'Z') z++;
        }
    }
    closedir(d);
    *children = all;
    return z;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: zsample PID [INTERVAL_US]\n"); return 2; }
    const char *pid = argv[1];
    int interval = argc > 2 ? atoi(argv[2]) : 500;
    int peak = 0, peakc = 0;
    long samples = 0;
    printf("ready\n");
    fflush(stdout);
    struct pollfd pfd = {.fd = 0, .events = POLLIN};
    for (;;) {
        int ch = 0;
        int z = sample(pid, &ch);
        if (z < 0) break;
        samples++;
        if (z > peak) peak = z;
        if (ch > peakc) peakc = ch;
        if (poll(&pfd, 1, 0) > 0) break;
        usleep((useconds_t)interval);
    }
    printf("peak_zombies=%d peak_children=%d samples=%ld\n", peak, peakc, samples);
    return 0;
}
