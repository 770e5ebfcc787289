/* svc: the service every supervisor runs in bench/services.py.
 *
 *   svc MARKER          create the file MARKER, then wait (pause) until a
 *                       signal kills it: SIGTERM keeps its default action, so
 *                       the service exits at once on SIGTERM
 *   run [ARGS...]       (svc started through a symlink named "run") the same
 *                       with MARKER = "./marker": s6 and runit exec ./run
 *                       in the service directory (s6 passes the service's
 *                       name as argv[1]); ./run is a symlink to svc and
 *                       ./marker a dangling symlink to the marker path, which
 *                       open(O_CREAT) creates: still one exec per service;
 *                       when ./counter exists (a symlink), `svc -x ./counter`
 *   svc -x COUNTER      append one byte to COUNTER and exit 1 at once (a
 *                       crash-looping service; the file's size counts starts)
 *
 * Each signal disposition is reset to the default and the mask cleared, so a
 * supervisor that leaves SIGTERM ignored or blocked cannot make it linger.
 * Part of foster's bench/, compiled by bench/services.py (static when possible).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    int as_run = strcmp(base, "run") == 0;
    struct stat st;
    const char *counter = as_run ? (lstat("counter", &st) == 0 ? "counter" : NULL)
                                 : (argc >= 3 && strcmp(argv[1], "-x") == 0 ? argv[2] : NULL);
    if (counter) {
        int fd = open(counter, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            (void)!write(fd, "x", 1);
            close(fd);
        }
        _exit(1);
    }
    const char *marker = as_run ? "marker" : argc >= 2 ? argv[1] : NULL;
    if (!marker) _exit(2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    int fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) _exit(111);
    close(fd);
    for (;;) pause();
}
