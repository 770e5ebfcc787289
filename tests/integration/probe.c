/*
 * probe — the program the integration tests run under foster.
 *
 * It records what it was given (pid, parents, signal mask, descriptors,
 * environment, signals received) into files the tests read, or behaves in a
 * way a test needs (exit with N, die of a signal, orphan children, leave a
 * process behind). Every file a test polls is written so that a reader never
 * sees a half-written record: whole files by write-then-rename, line logs by
 * one write(2) per line (tests ignore a line without its newline).
 *
 * Subcommands (times are CLOCK_MONOTONIC nanoseconds, the clock of Python's
 * time.monotonic_ns()):
 *   report FILE [hold]        pid, ppid, pgid, sid, cwd, SigBlk, SigIgn, open
 *                             fds with targets, environment; "hold": then
 *                             wait for SIGTERM or SIGINT and exit 0
 *   exit N [MARKER]           create MARKER (if given), exit N
 *   kill-self SIG [MARKER]    create MARKER (if given), die of signal SIG
 *                             (a number)
 *   signals FILE [COUNT [CHILDFILE]]
 *                             block every catchable signal, write
 *                             "ready PID PPID PGID", then one line
 *                             "sig SIGNO SI_PID SI_CODE TIME" per signal;
 *                             exit 0 after COUNT signals, or (COUNT 0 or
 *                             absent) on SIGTERM. CHILDFILE: first fork a
 *                             child in the same process group doing the same
 *                             into CHILDFILE
 *   kill-parent SIG FILE      block every signal, send SIG to the parent,
 *                             then as "signals FILE 1"
 *   echo                      copy stdin to stdout until EOF, exit 0
 *   orphans N DELAY_MS FILE   fork N children that each fork a grandchild and
 *                             exit at once; grandchild i exits after
 *                             (i % (DELAY_MS+1)) ms. Write "done" to FILE once
 *                             all children are reaped, then hold (as report)
 *   orphan-stream N GAP_US FILE
 *                             make orphans one at a time, for ever: fork a
 *                             child that forks a grandchild and exits, reap
 *                             it (the grandchild, which exits at once, is
 *                             re-parented), sleep GAP_US microseconds. Write
 *                             "done" to FILE after the N-th. Ends only by a
 *                             signal (SIGTERM kills it)
 *   orphan FILE               fork a child that forks a grandchild and exits;
 *                             the grandchild waits to be re-parented, then
 *                             writes a report to FILE and exits. The probe
 *                             exits 0 once FILE exists
 *   spawn-and-exit FILE MODE [STATUS]
 *                             leave behind a grandchild in a session of its
 *                             own (fds 0-2 on /dev/null, no other fds) that
 *                             on SIGTERM: MODE "ignore" ignores it, "exit"
 *                             exits 0, "record" appends "term TIME" to
 *                             FILE.term and keeps running; "stop": it stops
 *                             itself (SIGSTOP) and dies of SIGTERM once
 *                             continued. FILE gets "leftover PID" and
 *                             "exit TIME" (once the leftover is set up, or
 *                             stopped); then exit STATUS (default 0)
 *   burst N hold FILE         fork an intermediate that forks N children
 *                             blocked on a pipe and a releaser, and exits; the
 *                             releaser waits until it was re-parented, then
 *                             closes the pipe so that all N exit at the same
 *                             moment, and writes "released" to FILE. The
 *                             probe holds (as report)
 *   burst N exit STATUS       fork N children blocked on a pipe whose only
 *                             writer is the probe, exit STATUS: the children
 *                             exit together with the probe
 *   churn SECONDS CEILING FILE
 *                             for SECONDS, keep 16 short-lived children in
 *                             flight, each a session leader (setsid) that
 *                             lives 2 ms and exits 0: decoys for a signal
 *                             meant for a recycled pid or process group. In
 *                             a PID namespace other than the host's, it
 *                             steers ns_last_pid through
 *                             1..CEILING, so every pid freed there is taken
 *                             again within milliseconds. Then FILE gets
 *                             "children N", "steered 0|1" and one line
 *                             "hit PID SIGNO" per child killed by a signal;
 *                             then it holds (as report)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static void die(const char *what)
{
    fprintf(stderr, "probe: %s: %s\n", what, strerror(errno));
    _exit(99);
}

static void usage(void)
{
    fprintf(stderr, "probe: bad usage (see the comment at the top of probe.c)\n");
    _exit(98);
}

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("write");
        }
        buf += n;
        len -= (size_t)n;
    }
}

/* Writes CONTENT to PATH so that PATH appears complete or not at all. */
static void write_file_atomically(const char *path, const char *content, size_t len)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die("open tmp");
    write_all(fd, content, len);
    close(fd);
    if (rename(tmp, path) < 0)
        die("rename");
}

/* Appends one line with a single write(2), so a reader sees it whole. */
static void append_line(const char *path, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line)
        usage();
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        die("open log");
    write_all(fd, line, (size_t)n);
    close(fd);
}

static void copy_status_line(FILE *out, const char *key, const char *name)
{
    FILE *f = fopen("/proc/self/status", "re");
    if (!f)
        die("open /proc/self/status");
    char line[512];
    size_t klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            char *v = line + klen + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            fprintf(out, "%s %s", name, v);
        }
    }
    fclose(f);
}

/* Lists the open fds except the one used to read /proc/self/fd itself. */
static void list_fds(FILE *out)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        die("opendir /proc/self/fd");
    int own = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd == own)
            continue;
        char link[PATH_MAX], target[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n < 0)
            n = 0;
        target[n] = '\0';
        fprintf(out, "fd %d %s\n", fd, target);
    }
    closedir(d);
}

static void write_report(const char *path)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        die("open_memstream");
    fprintf(out, "pid %d\nppid %d\npgid %d\nsid %d\n", (int)getpid(), (int)getppid(),
            (int)getpgid(0), (int)getsid(0));
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        strcpy(cwd, "?");
    fprintf(out, "cwd %s\n", cwd);
    copy_status_line(out, "SigBlk", "sigblk");
    copy_status_line(out, "SigIgn", "sigign");
    list_fds(out);
    for (char **e = environ; *e; e++)
        fprintf(out, "env %s\n", *e);
    fclose(out);
    write_file_atomically(path, buf, len);
    free(buf);
}

/* Waits for SIGTERM or SIGINT whatever their disposition, then exits 0. */
static void hold(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sig;
    while (sigwait(&set, &sig) != 0) {
    }
    _exit(0);
}

static int cmd_report(int argc, char **argv)
{
    if (argc < 1)
        usage();
    write_report(argv[0]);
    if (argc > 1 && strcmp(argv[1], "hold") == 0)
        hold();
    return 0;
}

static int cmd_exit(int argc, char **argv)
{
    if (argc < 1)
        usage();
    if (argc > 1)
        write_file_atomically(argv[1], "ran\n", 4);
    return atoi(argv[0]);
}

static int cmd_kill_self(int argc, char **argv)
{
    if (argc < 1)
        usage();
    int sig = atoi(argv[0]);
    if (argc > 1)
        write_file_atomically(argv[1], "ran\n", 4);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    return 97;
}

static void record_signals(const char *path, long count)
{
    sigset_t wait_set;
    sigfillset(&wait_set);
    sigdelset(&wait_set, SIGKILL);
    sigdelset(&wait_set, SIGSTOP);
    sigdelset(&wait_set, SIGCHLD);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        die("open signals file");
    close(fd);
    append_line(path, "ready %d %d %d\n", (int)getpid(), (int)getppid(), (int)getpgid(0));
    long received = 0;
    for (;;) {
        siginfo_t si;
        int sig = sigwaitinfo(&wait_set, &si);
        if (sig < 0) {
            if (errno == EINTR)
                continue;
            die("sigwaitinfo");
        }
        append_line(path, "sig %d %d %d %lld\n", sig, (int)si.si_pid, si.si_code, now_ns());
        received++;
        if (count > 0 && received >= count)
            break;
        if (count <= 0 && sig == SIGTERM)
            break;
    }
    _exit(0);
}

static int cmd_signals(int argc, char **argv)
{
    if (argc < 1)
        usage();
    long count = argc > 1 ? atol(argv[1]) : 0;
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    if (argc > 2) {
        pid_t child = fork();
        if (child < 0)
            die("fork");
        if (child == 0)
            record_signals(argv[2], count);
    }
    record_signals(argv[0], count);
    return 0;
}

/* Sends SIG to the parent (foster) with every signal already blocked, then
 * records one signal: the one foster forwards back. */
static int cmd_kill_parent(int argc, char **argv)
{
    if (argc < 2)
        usage();
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, NULL);
    if (kill(getppid(), atoi(argv[0])) < 0)
        die("kill parent");
    record_signals(argv[1], 1);
    return 0;
}

static int cmd_echo(void)
{
    char buf[4096];
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("read stdin");
        if (n == 0)
            return 0;
        write_all(1, buf, (size_t)n);
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static int cmd_orphans(int argc, char **argv)
{
    if (argc < 3)
        usage();
    long n = atol(argv[0]);
    long delay = atol(argv[1]);
    for (long i = 0; i < n; i++) {
        pid_t child = fork();
        if (child < 0)
            die("fork");
        if (child == 0) {
            pid_t grandchild = fork();
            if (grandchild == 0) {
                sleep_ms(i % (delay + 1));
                _exit(0);
            }
            _exit(0);
        }
    }
    while (wait(NULL) > 0 || errno == EINTR) {
    }
    write_file_atomically(argv[2], "done\n", 5);
    hold();
    return 0;
}

static int cmd_orphan_stream(int argc, char **argv)
{
    if (argc < 3)
        usage();
    long n = atol(argv[0]);
    long gap_us = atol(argv[1]);
    for (long made = 1;; made++) {
        pid_t child = fork();
        if (child < 0)
            die("fork");
        if (child == 0) {
            if (fork() == 0)
                _exit(0);
            _exit(0);
        }
        while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
        }
        if (made == n)
            write_file_atomically(argv[2], "done\n", 5);
        struct timespec gap = {gap_us / 1000000, (gap_us % 1000000) * 1000L};
        while (nanosleep(&gap, &gap) < 0 && errno == EINTR) {
        }
    }
}

static int cmd_orphan(int argc, char **argv)
{
    if (argc < 1)
        usage();
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        pid_t parent = getpid();
        pid_t grandchild = fork();
        if (grandchild == 0) {
            while (getppid() == parent)
                sleep_ms(1);
            write_report(argv[0]);
            _exit(0);
        }
        _exit(0);
    }
    waitpid(child, NULL, 0);
    while (access(argv[0], F_OK) != 0)
        sleep_ms(2);
    return 0;
}

static void on_term_exit(int sig)
{
    (void)sig;
    _exit(0);
}

static void become_detached_leftover(void)
{
    setsid();
    int null = open("/dev/null", O_RDWR);
    if (null < 0)
        die("open /dev/null");
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
}

static void run_leftover(const char *mode, const char *term_log, int ready_fd)
{
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    if (strcmp(mode, "ignore") == 0)
        signal(SIGTERM, SIG_IGN);
    else if (strcmp(mode, "exit") == 0)
        signal(SIGTERM, on_term_exit);
    else if (strcmp(mode, "record") == 0)
        sigprocmask(SIG_BLOCK, &term, NULL);
    else if (strcmp(mode, "stop") == 0)
        signal(SIGHUP, SIG_IGN); /* only SIGTERM (after a SIGCONT) may end it */
    else
        usage();
    write_all(ready_fd, "r", 1);
    become_detached_leftover();
    if (strcmp(mode, "stop") == 0)
        raise(SIGSTOP);
    if (strcmp(mode, "record") != 0) {
        for (;;)
            pause();
    }
    for (;;) {
        int sig;
        if (sigwait(&term, &sig) == 0)
            append_line(term_log, "term %lld\n", now_ns());
    }
}

/* Polls /proc/PID/stat until the process is stopped (state T). */
static void wait_until_stopped(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    for (int tries = 0; tries < 10000; tries++) {
        char buf[512];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            die("open /proc/PID/stat");
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n > 0) {
            buf[n] = '\0';
            char *paren = strrchr(buf, ')');
            if (paren && paren[1] == ' ' && paren[2] == 'T')
                return;
        }
        sleep_ms(1);
    }
    fprintf(stderr, "probe: leftover %d never stopped\n", (int)pid);
    _exit(96);
}

static int cmd_spawn_and_exit(int argc, char **argv)
{
    if (argc < 2)
        usage();
    const char *file = argv[0];
    const char *mode = argv[1];
    int status = argc > 2 ? atoi(argv[2]) : 0;
    char term_log[PATH_MAX];
    snprintf(term_log, sizeof term_log, "%s.term", file);
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) < 0)
        die("pipe");
    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        pid_t grandchild = fork();
        if (grandchild < 0)
            die("fork");
        if (grandchild == 0) {
            close(ready[0]);
            run_leftover(mode, term_log, ready[1]);
        }
        char line[64];
        int n = snprintf(line, sizeof line, "%d\n", (int)grandchild);
        write_all(ready[1], line, (size_t)n);
        _exit(0);
    }
    close(ready[1]);
    waitpid(child, NULL, 0);
    /* The grandchild's "r" (set-up done) and the child's pid line, any order. */
    char buf[128];
    size_t got = 0;
    for (;;) {
        ssize_t n = read(ready[0], buf + got, sizeof buf - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("read ready pipe");
        if (n == 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    char *digits = buf;
    while (*digits == 'r')
        digits++;
    int leftover = atoi(digits);
    if (strchr(buf, 'r') == NULL || leftover <= 0)
        usage();
    if (strcmp(mode, "stop") == 0)
        wait_until_stopped(leftover);
    char out[128];
    int n = snprintf(out, sizeof out, "leftover %d\nexit %lld\n", leftover, now_ns());
    write_file_atomically(file, out, (size_t)n);
    return status;
}

static void block_until_eof(int fd)
{
    char c;
    for (;;) {
        ssize_t n = read(fd, &c, 1);
        if (n == 0 || (n < 0 && errno != EINTR))
            break;
    }
    _exit(0);
}

static void fork_blocked_children(long n, int pipe_fds[2])
{
    for (long i = 0; i < n; i++) {
        pid_t child = fork();
        if (child < 0)
            die("fork");
        if (child == 0) {
            close(pipe_fds[1]);
            block_until_eof(pipe_fds[0]);
        }
    }
}

static int cmd_burst(int argc, char **argv)
{
    if (argc < 3)
        usage();
    long n = atol(argv[0]);
    int gate[2];
    if (pipe(gate) < 0)
        die("pipe");
    if (strcmp(argv[1], "exit") == 0) {
        fork_blocked_children(n, gate);
        close(gate[0]);
        return atoi(argv[2]);
    }
    if (strcmp(argv[1], "hold") != 0)
        usage();
    pid_t intermediate = fork();
    if (intermediate < 0)
        die("fork");
    if (intermediate == 0) {
        pid_t me = getpid();
        fork_blocked_children(n, gate);
        pid_t releaser = fork();
        if (releaser == 0) {
            close(gate[0]);
            while (getppid() == me)
                sleep_ms(1);
            close(gate[1]);
            write_file_atomically(argv[2], "released\n", 9);
            _exit(0);
        }
        _exit(0);
    }
    close(gate[0]);
    close(gate[1]);
    waitpid(intermediate, NULL, 0);
    hold();
    return 0;
}

/* ns_last_pid can be steered only inside a PID namespace other than the
 * host's (whose inode is the kernel's PROC_PID_INIT_INO): never on the host,
 * where others fork too. */
static int in_own_pid_namespace(void)
{
    struct stat st;
    return stat("/proc/self/ns/pid", &st) == 0 && st.st_ino != 0xEFFFFFFCU;
}

/* False when the kernel refuses (no CAP_SYS_ADMIN over the namespace): the
 * churn goes on unsteered. */
static int steer_next_pid(int fd, long last)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld", last);
    return pwrite(fd, buf, (size_t)n, 0) >= 0 || errno == EINVAL;
}

static int cmd_churn(int argc, char **argv)
{
    if (argc < 3)
        usage();
    const long long end = now_ns() + atoll(argv[0]) * 1000000000LL;
    const long ceiling = atol(argv[1]);
    int steer_fd = in_own_pid_namespace() ? open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC) : -1;
    static char out[1 << 16];
    int used = 0;
    long children = 0, next = 1;
    int in_flight = 0;
    while (now_ns() < end || in_flight > 0) {
        while (in_flight < 16 && now_ns() < end) {
            if (steer_fd >= 0 && !steer_next_pid(steer_fd, next)) {
                close(steer_fd);
                steer_fd = -1;
            }
            pid_t pid = fork();
            if (pid < 0) {
                if (errno == EAGAIN)
                    break;
                die("fork");
            }
            if (pid == 0) {
                struct timespec two_ms = {0, 2000000};
                setsid();
                nanosleep(&two_ms, NULL);
                _exit(0);
            }
            ++children;
            ++in_flight;
            next = pid >= ceiling ? 1 : pid;
        }
        int status;
        pid_t done = waitpid(-1, &status, 0);
        if (done < 0)
            break;
        --in_flight;
        if (WIFSIGNALED(status) && used < (int)sizeof out - 64)
            used += snprintf(out + used, sizeof out - (size_t)used, "hit %d %d\n", done, WTERMSIG(status));
    }
    char head[64];
    int n = snprintf(head, sizeof head, "children %ld\nsteered %d\n", children, steer_fd >= 0);
    static char all[sizeof out + 64];
    memcpy(all, head, (size_t)n);
    memcpy(all + n, out, (size_t)used);
    write_file_atomically(argv[2], all, (size_t)(n + used));
    hold();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    const char *cmd = argv[1];
    int rest = argc - 2;
    char **args = argv + 2;
    if (strcmp(cmd, "report") == 0)
        return cmd_report(rest, args);
    if (strcmp(cmd, "exit") == 0)
        return cmd_exit(rest, args);
    if (strcmp(cmd, "kill-self") == 0)
        return cmd_kill_self(rest, args);
    if (strcmp(cmd, "signals") == 0)
        return cmd_signals(rest, args);
    if (strcmp(cmd, "kill-parent") == 0)
        return cmd_kill_parent(rest, args);
    if (strcmp(cmd, "echo") == 0)
        return cmd_echo();
    if (strcmp(cmd, "orphans") == 0)
        return cmd_orphans(rest, args);
    if (strcmp(cmd, "orphan") == 0)
        return cmd_orphan(rest, args);
    if (strcmp(cmd, "orphan-stream") == 0)
        return cmd_orphan_stream(rest, args);
    if (strcmp(cmd, "spawn-and-exit") == 0)
        return cmd_spawn_and_exit(rest, args);
    if (strcmp(cmd, "burst") == 0)
        return cmd_burst(rest, args);
    if (strcmp(cmd, "churn") == 0)
        return cmd_churn(rest, args);
    usage();
    return 98;
}
