// fosterctl.cpp — the control tool: one request to a running foster, its
// answer shown, an exit status a script can act on (fosterctl(1);
// the wire format is in docs/PROTOCOL.md).
//
// Everything fosterctl checks about a request it checks with the same
// parse_request foster uses, so a command line that fosterctl accepts is one
// foster accepts, and a bad one is a usage error (2) before any connection.
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "control_protocol.hpp"
#include "duration.hpp"
#include "fd.hpp"
#include "file_trust.hpp"
#include "fosterctl_options.hpp"
#include "log.hpp"
#include "log_protocol.hpp"
#include "status_view.hpp"

namespace {

using namespace foster;
using Clock = std::chrono::steady_clock;
using ctl::Invocation;
using ctl::parse_command_line;

constexpr int exit_done = 0;
constexpr int exit_failed = 1;
constexpr int exit_usage = 2;
constexpr int exit_unreachable = 3;

// How much longer than --wait fosterctl waits for the answer, so that foster's
// own "not reached in time" arrives before the socket gives up.
constexpr Millis answer_grace{5000};
// An answer is a status line, a row per service and a few details; anything
// this large is not from foster.
constexpr std::size_t max_answer_bytes = std::size_t{16} << 20;

constexpr const char* usage_text =
    "Usage: fosterctl [-s SOCKET | -c FILE] [--timeout DURATION] COMMAND [ARGS...]\n"
    "\n"
    "Commands:\n"
    "  status [NAME...] [--json]           the services (all, or those named): a table, or JSON\n"
    "  start [--no-wait] NAME...           start the services (clears fatal) and wait until ready\n"
    "  stop [--no-wait] NAME...            stop the services and wait until stopped\n"
    "  restart [--no-wait] [--overlap] NAME...\n"
    "                                      restart the services and wait until ready; --overlap:\n"
    "                                      the new process starts beside the old, which stops\n"
    "                                      once the new one is ready (fails if it never is)\n"
    "  signal SIG NAME...                  send SIG (TERM, SIGTERM or 15) to each main process\n"
    "  reload                              read the config again (as SIGHUP); errors are printed\n"
    "  reload NAME...                      send each service its reload_signal\n"
    "  shutdown                            stop everything and make foster exit (as SIGTERM)\n"
    "  reopen                              reopen the output files foster writes (logrotate)\n"
    "  check [-q] [NAME...]                exit 0 if the services (default: all autostart ones)\n"
    "                                      are running and healthy; -q: print no reason\n"
    "  logs [-n N] [-f] [--since DURATION] [--json] [NAME...]\n"
    "                                      recent output kept by foster, services merged in\n"
    "                                      order; -f: follow new lines until interrupted\n"
    "\n"
    "Options:\n"
    "  -s, --socket SOCKET    foster's control socket\n"
    "  -c, --config FILE      use the control_socket of FILE\n"
    "      --timeout DURATION how long start/stop/restart wait for the state, and how long any\n"
    "                         command waits for foster's answer (default 30s)\n"
    "  -h, --help             print this help and exit\n"
    "  -V, --version          print the version and exit\n"
    "\n"
    "Exit status: 0 done, 1 failed, 2 usage, 3 cannot reach foster.\n"
    "Where the socket is, the JSON schema, every exit status: man fosterctl\n";

void print_error(std::string_view message) {
    std::fprintf(stderr, "fosterctl: %.*s\n", static_cast<int>(message.size()), message.data());
}

int usage_error(std::string_view message) {
    print_error(message);
    std::fputs("Try 'fosterctl --help'.\n", stderr);
    return exit_usage;
}

// Milliseconds left until `deadline`, for poll(): never negative, at most INT_MAX.
int remaining_ms(Clock::time_point deadline) {
    const auto left = std::chrono::ceil<Millis>(deadline - Clock::now()).count();
    return static_cast<int>(std::clamp<Millis::rep>(left, 0, INT_MAX));
}

// Waits until `fd` is ready for `events` or the deadline passes; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
    while (true) {
        pollfd p{fd, events, 0};
        const int n = ::poll(&p, 1, remaining_ms(deadline));
        if (n > 0) return true;
        if (n == 0) return false;
        if (errno != EINTR) return true;  // let the following call report the error
    }
}

// A failed exchange: what to print, and exit status 3.
struct Unreachable {
    std::string message;
};

std::string connect_error(int error, const std::string& path) {
    switch (error) {
    case ENOENT:
    case ENOTDIR:
        return "foster is not running (no socket at " + path + ")";
    case ECONNREFUSED: {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) return path + " is not a socket";
        return "no foster is listening on " + path + " (stale socket)";
    }
    case EACCES:
    case EPERM:
        return "permission denied on " + path;
    default:
        return "cannot connect to " + path + ": " + log::errno_text(error);
    }
}

std::optional<Unreachable> connect_socket(const Fd& fd, const std::string& path, Clock::time_point deadline) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.data(), path.size());
    const auto* generic = reinterpret_cast<const sockaddr*>(&address);
    while (::connect(fd.get(), generic, sizeof address) != 0) {
        if (errno == EAGAIN) {
            // The listen backlog is full: foster is busy; try again shortly.
            if (remaining_ms(deadline) == 0) return Unreachable{"foster on " + path + " accepts no connection"};
            ::poll(nullptr, 0, std::min(20, remaining_ms(deadline)));
            continue;
        }
        if (errno != EINPROGRESS && errno != EINTR) return Unreachable{connect_error(errno, path)};
        if (!wait_for(fd.get(), POLLOUT, deadline))
            return Unreachable{"foster on " + path + " accepts no connection"};
        int error = 0;
        socklen_t length = sizeof error;
        if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
        if (error != 0) return Unreachable{connect_error(error, path)};
        return std::nullopt;
    }
    return std::nullopt;
}

std::optional<Unreachable> send_all(const Fd& fd, std::string_view data, const std::string& path,
                                    Clock::time_point deadline, bool half_close = true) {
    while (!data.empty()) {
        if (!wait_for(fd.get(), POLLOUT, deadline))
            return Unreachable{"foster on " + path + " did not take the request in time"};
        const ssize_t n = ::send(fd.get(), data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return Unreachable{"cannot send the request to foster on " + path + ": " + log::errno_text(errno)};
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    // The request is complete; failing here changes nothing. A follower
    // keeps its side open: closing it is how foster learns it left.
    if (half_close) ::shutdown(fd.get(), SHUT_WR);
    return std::nullopt;
}

std::optional<Unreachable> receive_all(const Fd& fd, std::string& answer, const std::string& path,
                                       Clock::time_point deadline, Millis timeout) {
    char buffer[65536];
    while (true) {
        if (!wait_for(fd.get(), POLLIN, deadline))
            return Unreachable{"foster on " + path + " did not answer within " + format_duration(timeout)};
        const ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
        if (n == 0) return std::nullopt;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return Unreachable{"cannot read foster's answer on " + path + ": " + log::errno_text(errno)};
        }
        answer.append(buffer, static_cast<std::size_t>(n));
        if (answer.size() > max_answer_bytes)
            return Unreachable{"foster on " + path + " sent more than " + std::to_string(max_answer_bytes) +
                               " bytes"};
    }
}

// One request, one answer (everything foster sent until it closed).
std::optional<Unreachable> exchange(const std::string& path, const std::string& request, Millis timeout,
                                    std::string& answer) {
    const auto deadline = Clock::now() + timeout;
    const Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return Unreachable{"cannot create a socket: " + log::errno_text(errno)};
    if (auto failed = connect_socket(fd, path, deadline)) return failed;
    if (auto failed = send_all(fd, request, path, deadline)) {
        // foster may have answered and closed before reading the request (it
        // refuses a peer it does not allow at once): its answer is still
        // waiting in our receive queue, and says more than "broken pipe".
        if (receive_all(fd, answer, path, deadline, timeout) || answer.empty()) return failed;
        return std::nullopt;
    }
    return receive_all(fd, answer, path, deadline, timeout);
}

std::optional<std::string> find_socket(const Invocation& invocation, int& exit_code) {
    std::optional<std::string> from_config;
    if (invocation.config_path) {
        // As root, FILE decides where root's commands go and whose answers
        // are printed: the same rule as foster's (docs/SECURITY.md).
        LoadOptions options;
        options.resolve_environment = false;  // foster's environment is not ours
        const auto loaded = load_trusted_config(*invocation.config_path, options);
        if (!loaded.config) {
            for (const auto& error : loaded.errors) std::fprintf(stderr, "%s\n", error.to_string().c_str());
            // `reload` after editing FILE: these are the errors foster would
            // refuse it with, so it fails as a refused reload does.
            exit_code = invocation.request.command == control::Command::reload ? exit_failed : exit_usage;
            return std::nullopt;
        }
        from_config = loaded.config->control_socket;
    }
    std::string path = control::socket_path(invocation.socket, std::getenv("FOSTER_SOCKET"), from_config,
                                             ::geteuid(), std::getenv("XDG_RUNTIME_DIR"));
    if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
        print_error("socket path is longer than " + std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                    " bytes: " + path);
        exit_code = exit_usage;
        return std::nullopt;
    }
    return path;
}

// Shows foster's answer; returns fosterctl's exit status.
int report(const Invocation& invocation, const control::Response& response) {
    const bool silent = invocation.quiet;
    if (!response.ok && !silent) print_error(response.error);
    if (!silent)
        for (const auto& detail : response.details) std::fprintf(stderr, "%s\n", detail.c_str());
    return response.ok ? exit_done : exit_failed;
}

// Text for stdout, passed on in pieces of about 64 KiB: the status of 10,000
// services is 1.4 MB of JSON, and building it whole cost fosterctl more page
// faults than everything else it does (bench/README.md).
class ChunkedOutput {
public:
    std::string text;
    void pass_on_if_full() {
        if (text.size() >= 64 * 1024) pass_on();
    }
    void pass_on() {
        if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) failed_errno_ = errno;
        text.clear();
    }
    // main() reports a failed write at its final fflush; one that failed
    // here must not be forgotten by then.
    int exit_code() const {
        if (failed_errno_ == 0) return exit_done;
        print_error("cannot write the output: " + log::errno_text(failed_errno_));
        return exit_failed;
    }

private:
    int failed_errno_ = 0;
};

// `status`: the answer is read twice, once to check it whole (and to measure
// the table's columns), once to print it, so that nothing is printed from an
// answer that is not foster/1 and fosterctl never holds every row or the
// whole output at once.
int show_status(const Invocation& invocation, std::string_view answer, const std::string& path) {
    control::StatusTable table;
    const auto response = control::parse_response(answer, [&](control::StatusRow&& row) {
        if (!invocation.json) table.measure(row);
    });
    if (!response) {
        print_error("the answer from " + path + " is not foster/1 (is it a foster socket?)");
        return exit_unreachable;
    }
    const int exit_code = report(invocation, *response);
    if (exit_code != exit_done) return exit_code;
    ChunkedOutput out;
    control::StatusJson json;
    control::parse_response(answer, [&](control::StatusRow&& row) {
        if (invocation.json)
            json.add(row, out.text);
        else
            table.add(row, out.text);
        out.pass_on_if_full();
    });
    if (invocation.json)
        json.finish(out.text);
    else
        table.finish(out.text);
    out.pass_on();
    return out.exit_code();
}

// One line of a `logs` answer, shown; false (with `exit_code` set) when the
// answer ends here.
bool show_log_line(std::string_view line, bool json, const std::string& path, int& exit_code) {
    if (auto log_line = control::parse_log_line(line)) {
        const std::string text = json ? control::log_line_json(*log_line) : control::log_line_text(*log_line);
        std::fwrite(text.data(), 1, text.size(), stdout);
        return true;
    }
    if (auto why = control::parse_cut(line)) {
        print_error(*why);
        exit_code = exit_failed;
    } else {
        print_error("the answer from " + path + " is not foster/1 (is it a foster socket?)");
        exit_code = exit_unreachable;
    }
    return false;
}

// `logs`: the answer is shown line by line as it arrives; with --follow
// it never ends by itself (foster exiting ends it, with status 0).
int run_logs(const Invocation& invocation, const std::string& path) {
    const auto fail = [](const std::string& message, int status) {
        print_error(message);
        return status;
    };
    const Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return fail("cannot create a socket: " + log::errno_text(errno), exit_unreachable);
    auto deadline = Clock::now() + invocation.timeout;
    std::optional<Unreachable> failed = connect_socket(fd, path, deadline);
    if (!failed) failed = send_all(fd, control::format_request(invocation.request), path, deadline, !invocation.request.follow);
    if (failed) return fail(failed->message, exit_unreachable);
    std::string pending;
    bool status_seen = false;
    char buffer[65536];
    while (true) {
        // Only the status line must come in time: a follower then waits for
        // as long as it takes, and a long answer may take a while to read.
        if (!status_seen || !invocation.request.follow) {
            if (!wait_for(fd.get(), POLLIN, deadline))
                return fail("foster on " + path + " did not answer within " + format_duration(invocation.timeout), exit_unreachable);
        }
        const ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, invocation.request.follow && status_seen ? 0 : MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            if (invocation.request.follow && status_seen) wait_for(fd.get(), POLLIN, Clock::time_point::max());
            continue;
        }
        if (n < 0) return fail("cannot read foster's answer on " + path + ": " + log::errno_text(errno), exit_unreachable);
        if (n == 0) {
            if (!pending.empty() || !status_seen)
                return fail("foster on " + path + " closed the connection without answering", exit_unreachable);
            return exit_done;
        }
        deadline = Clock::now() + invocation.timeout;
        pending.append(buffer, static_cast<std::size_t>(n));
        std::size_t start = 0;
        for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
            const std::string_view line = std::string_view(pending).substr(start, nl + 1 - start);
            int exit_code = exit_done;
            if (!status_seen) {
                const auto response = control::parse_response(line);
                if (!response) return fail("the answer from " + path + " is not foster/1 (is it a foster socket?)", exit_unreachable);
                if (!response->ok) return fail(response->error, exit_failed);
                status_seen = true;
            } else if (!show_log_line(line, invocation.json, path, exit_code)) {
                return exit_code;
            }
        }
        pending.erase(0, start);
        if (pending.size() > max_answer_bytes)
            return fail("foster on " + path + " sent a line longer than " + std::to_string(max_answer_bytes) + " bytes", exit_unreachable);
        if (invocation.request.follow) std::fflush(stdout);
    }
}

int run(const std::vector<std::string>& args) {
    Invocation invocation;
    bool help = false, version = false;
    if (auto error = parse_command_line(args, invocation, help, version); !error.empty())
        return usage_error(error);
    if (help) {
        std::fputs(usage_text, stdout);
        return exit_done;
    }
    if (version) {
        std::puts("fosterctl " FOSTER_VERSION);
        return exit_done;
    }
    int exit_code = exit_done;
    const auto path = find_socket(invocation, exit_code);
    if (!path) return exit_code;
    if (invocation.request.command == control::Command::logs) return run_logs(invocation, *path);

    const Millis socket_timeout = invocation.request.wait ? *invocation.request.wait + answer_grace
                                                          : invocation.timeout;
    std::string answer;
    if (const auto failed = exchange(*path, control::format_request(invocation.request), socket_timeout, answer)) {
        print_error(failed->message);
        return exit_unreachable;
    }
    if (answer.empty()) {
        print_error("foster on " + *path + " closed the connection without answering");
        return exit_unreachable;
    }
    if (invocation.request.command == control::Command::status) return show_status(invocation, answer, *path);
    const auto response = control::parse_response(answer);
    if (!response) {
        print_error("the answer from " + *path + " is not foster/1 (is it a foster socket?)");
        return exit_unreachable;
    }
    return report(invocation, *response);
}

}  // namespace

int main(int argc, char** argv) {
    const int status = run(std::vector<std::string>(argv, argv + argc));
    if (std::fflush(stdout) != 0 && status == exit_done) {
        print_error("cannot write the output: " + log::errno_text(errno));
        return exit_failed;
    }
    return status;
}
