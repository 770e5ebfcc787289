/* ctlstorm: many concurrent clients of foster's control socket.
 *
 *   ctlstorm raw SOCKET CLIENTS ROUNDS ROWS OUTFILE
 *       ROUNDS times: open CLIENTS connections at once (non-blocking connect;
 *       EAGAIN from a full listen backlog is counted and retried every 1 ms),
 *       send "foster/1 status\n" on each, read every answer until EOF.  An
 *       answer counts as good when it starts with "ok\n", ends with "\n" and
 *       holds ROWS "service\t" lines (ROWS < 0: any number).  OUTFILE gets
 *       one line per request: "LATENCY_NS KIND" (KIND: ok, empty = closed
 *       without a byte, error = "error ..." answer, bad = other, timeout),
 *       latency from just before connect() until EOF.  stdout gets
 *       "requests=N ok=N empty=N error=N bad=N timeout=N eagain=N".
 *
 *   ctlstorm exec N OUTDIR PROGRAM [ARGS...]
 *       forks N children that wait on one pipe, then releases them all at
 *       once (closing the pipe) so that they exec PROGRAM at the same moment;
 *       child i writes stdout/stderr to OUTDIR/i.out and OUTDIR/i.err.  stdout
 *       gets one line per child: "i exit_status latency_ns" (from the release
 *       until that child was reaped; exit_status 128+N for a signal).
 *
 * Part of foster's bench/, compiled by bench/services.py.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

enum { CONNECTING, READING, DONE };
enum { K_OK, K_EMPTY, K_ERROR, K_BAD, K_TIMEOUT };
static const char *kind_name[] = {"ok", "empty", "error", "bad", "timeout"};

struct conn {
    int fd, state, kind;
    long long t0, t1;
    char *buf;
    size_t len, cap;
};

static const char request[] = "foster/1 status\n";

static int classify(const struct conn *c, long rows) {
    if (c->len == 0) return K_EMPTY;
    if (c->len >= 6 && memcmp(c->buf, "error ", 6) == 0) return K_ERROR;
    if (c->len < 3 || memcmp(c->buf, "ok\n", 3) != 0 || c->buf[c->len - 1] != '\n') return K_BAD;
    long n = 0;
    for (size_t i = 0; i + 8 <= c->len; i++)
        if ((i == 0 || c->buf[i - 1] == '\n') && memcmp(c->buf + i, "service\t", 8) == 0) n++;
    return (rows < 0 || n == rows) ? K_OK : K_BAD;
}

static int try_connect(struct conn *c, const struct sockaddr_un *addr, long *eagain) {
    if (connect(c->fd, (const struct sockaddr *)addr, sizeof *addr) == 0) {
        /* foster may have accepted and closed it already: EPIPE, counted as empty */
        if (send(c->fd, request, sizeof request - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof request - 1)) {
            c->state = DONE;
            c->kind = K_EMPTY;
            c->t1 = now_ns();
            return 0;
        }
        c->state = READING;
        return 1;
    }
    if (errno == EAGAIN) {
        (*eagain)++;
        return 0;
    }
    c->state = DONE;  /* refused, no such file, ... */
    c->kind = K_EMPTY;
    c->t1 = now_ns();
    return 0;
}

static int raw(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    if (argc != 7) {
        fprintf(stderr, "usage: ctlstorm raw SOCKET CLIENTS ROUNDS ROWS OUTFILE\n");
        return 2;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[2]);
    int clients = atoi(argv[3]), rounds = atoi(argv[4]);
    long rows = atol(argv[5]);
    FILE *out = fopen(argv[6], "w");
    if (!out || clients < 1) return 2;
    struct conn *cs = calloc(clients, sizeof *cs);
    struct pollfd *pfd = calloc(clients, sizeof *pfd);
    long counts[5] = {0}, eagain = 0;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < clients; i++) {
            struct conn *c = &cs[i];
            c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            c->state = CONNECTING;
            c->len = 0;
            c->t0 = now_ns();
            try_connect(c, &addr, &eagain);
        }
        long long deadline = now_ns() + 15000000000LL;
        for (;;) {
            int left = 0, connecting = 0, n = 0;
            for (int i = 0; i < clients; i++) {
                if (cs[i].state == CONNECTING) {
                    if (try_connect(&cs[i], &addr, &eagain) == 0 && cs[i].state == CONNECTING) connecting++;
                }
                if (cs[i].state == READING) {
                    pfd[n].fd = cs[i].fd;
                    pfd[n].events = POLLIN;
                    n++;
                }
                if (cs[i].state != DONE) left++;
            }
            if (!left) break;
            if (now_ns() > deadline) {
                for (int i = 0; i < clients; i++)
                    if (cs[i].state != DONE) {
                        cs[i].state = DONE;
                        cs[i].kind = K_TIMEOUT;
                        cs[i].t1 = now_ns();
                    }
                break;
            }
            poll(pfd, n, connecting ? 1 : 100);
            for (int i = 0; i < clients; i++) {
                struct conn *c = &cs[i];
                if (c->state != READING) continue;
                for (;;) {
                    if (c->cap - c->len < 65536) {
                        c->cap = c->cap * 2 + 65536;
                        c->buf = realloc(c->buf, c->cap);
                    }
                    ssize_t k = read(c->fd, c->buf + c->len, c->cap - c->len);
                    if (k > 0) {
                        c->len += k;
                        continue;
                    }
                    if (k < 0 && (errno == EAGAIN || errno == EINTR)) break;
                    c->t1 = now_ns();  /* EOF, or a reset */
                    c->state = DONE;
                    c->kind = classify(c, rows);
                    break;
                }
            }
        }
        for (int i = 0; i < clients; i++) {
            close(cs[i].fd);
            counts[cs[i].kind]++;
            fprintf(out, "%lld %s\n", cs[i].t1 - cs[i].t0, kind_name[cs[i].kind]);
        }
    }
    fclose(out);
    printf("requests=%ld ok=%ld empty=%ld error=%ld bad=%ld timeout=%ld eagain=%ld\n",
           (long)clients * rounds, counts[K_OK], counts[K_EMPTY], counts[K_ERROR], counts[K_BAD],
           counts[K_TIMEOUT], eagain);
    return 0;
}

static int execmode(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: ctlstorm exec N OUTDIR PROGRAM [ARGS...]\n");
        return 2;
    }
    int n = atoi(argv[2]);
    const char *dir = argv[3];
    int gate[2];
    if (pipe2(gate, O_CLOEXEC) != 0) return 1;
    pid_t *pids = calloc(n, sizeof *pids);
    long long *lat = calloc(n, sizeof *lat);
    int *st = calloc(n, sizeof *st);
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] < 0) {
            perror("fork");
            return 1;
        }
        if (pids[i] == 0) {
            char path[4096];
            close(gate[1]);
            snprintf(path, sizeof path, "%s/%d.out", dir, i);
            int o = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            snprintf(path, sizeof path, "%s/%d.err", dir, i);
            int e = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(o, 1);
            dup2(e, 2);
            char b;
            while (read(gate[0], &b, 1) < 0 && errno == EINTR) {
            }
            execv(argv[4], argv + 4);
            _exit(127);
        }
    }
    close(gate[0]);
    usleep(20000);  /* let every child reach its read() */
    long long t0 = now_ns();
    close(gate[1]);
    for (int done = 0; done < n; done++) {
        int status;
        pid_t p = waitpid(-1, &status, 0);
        if (p < 0) break;
        for (int i = 0; i < n; i++)
            if (pids[i] == p) {
                lat[i] = now_ns() - t0;
                st[i] = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
    }
    for (int i = 0; i < n; i++) printf("%d %d %lld\n", i, st[i], lat[i]);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "raw") == 0) return raw(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "exec") == 0) return execmode(argc, argv);
    fprintf(stderr, "usage: ctlstorm raw|exec ...\n");
    return 2;
}
