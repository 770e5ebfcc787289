#include <doctest/doctest.h>

#include <csignal>
#include <string>

#include "control_protocol.hpp"
#include "status_view.hpp"

using namespace foster;
using namespace foster::control;
using namespace std::string_literals;

namespace {

Request parsed(std::string_view line) {
    const auto result = parse_request(line);
    INFO("line: " << line << " error: " << result.error);
    REQUIRE(result.request);
    CHECK(result.error.empty());
    return *result.request;
}

std::string refused(std::string_view line) {
    const auto result = parse_request(line);
    INFO("line: " << line);
    CHECK_FALSE(result.request);
    return result.error;
}

Request make(Command command, std::vector<std::string> names = {}, std::optional<Millis> wait = {},
             int sig = 0) {
    Request r;
    r.command = command;
    r.names = std::move(names);
    r.wait = wait;
    r.signal = sig;
    return r;
}

StatusRow running_web() {
    StatusRow row;
    row.name = "web";
    row.state = "running";
    row.pid = 4242;
    row.uptime_ms = 192'000;
    row.restarts = 2;
    row.exit_status = 1;
    row.health = "healthy";
    return row;
}

StatusRow stopped(std::string name) {
    StatusRow row;
    row.name = std::move(name);
    row.state = "stopped";
    return row;
}

}  // namespace

TEST_CASE("command names both ways") {
    for (auto c : {Command::status, Command::start, Command::stop, Command::restart, Command::signal,
                   Command::reload, Command::shutdown, Command::check, Command::reopen})
        CHECK(parse_command(command_name(c)) == c);
    CHECK(command_name(Command::restart) == "restart");
    CHECK_FALSE(parse_command("STATUS"));
    CHECK_FALSE(parse_command(""));
}

TEST_CASE("service names on the wire") {
    CHECK(valid_name("web"));
    CHECK(valid_name("A-z_0.9"));
    CHECK(valid_name("-"));
    CHECK(valid_name(std::string(128, 'x')));
    CHECK_FALSE(valid_name(std::string(129, 'x')));
    CHECK_FALSE(valid_name(""));
    CHECK_FALSE(valid_name("a b"));
    CHECK_FALSE(valid_name("a/b"));
    CHECK_FALSE(valid_name("a=b"));
    CHECK_FALSE(valid_name("caf\xc3\xa9"));
}

TEST_CASE("parse_request accepts every command form") {
    CHECK(parsed("foster/1 status\n") == make(Command::status));
    CHECK(parsed("foster/1 status") == make(Command::status));
    CHECK(parsed("foster/1 status web db\n") == make(Command::status, {"web", "db"}));
    CHECK(parsed("foster/1 check\n") == make(Command::check));
    CHECK(parsed("foster/1 check web\n") == make(Command::check, {"web"}));
    CHECK(parsed("foster/1 start web\n") == make(Command::start, {"web"}));
    CHECK(parsed("foster/1 start --wait=30000 web db\n") ==
          make(Command::start, {"web", "db"}, Millis{30'000}));
    CHECK(parsed("foster/1 stop --wait=0 web\n") == make(Command::stop, {"web"}, Millis{0}));
    CHECK(parsed("foster/1 stop a\n") == make(Command::stop, {"a"}));
    CHECK(parsed("foster/1 restart --wait=8589934592 web\n") ==
          make(Command::restart, {"web"}, max_wait));
    CHECK(parsed("foster/1 restart web\n") == make(Command::restart, {"web"}));
    CHECK(parsed("foster/1 signal HUP web\n") == make(Command::signal, {"web"}, {}, SIGHUP));
    CHECK(parsed("foster/1 signal SIGUSR1 a b\n") == make(Command::signal, {"a", "b"}, {}, SIGUSR1));
    CHECK(parsed("foster/1 signal 9 web\n") == make(Command::signal, {"web"}, {}, SIGKILL));
    CHECK(parsed("foster/1 signal RTMIN+2 web\n") == make(Command::signal, {"web"}, {}, SIGRTMIN + 2));
    CHECK(parsed("foster/1 reload\n") == make(Command::reload));
    CHECK(parsed("foster/1 shutdown\n") == make(Command::shutdown));
    CHECK(parsed("foster/1 reopen\n") == make(Command::reopen));
    // A name that only looks like an option is a name.
    CHECK(parsed("foster/1 stop --no-wait\n") == make(Command::stop, {"--no-wait"}));
    CHECK(parsed("foster/1 status "s + std::string(128, 'n') + "\n").names[0].size() == 128);
}

TEST_CASE("parse_request: the line itself") {
    CHECK(refused("") == "empty request");
    CHECK(refused("\n") == "empty request");
    CHECK(refused("foster/1 status\r\n") ==
          "request byte 16 is 0x0d: only printable ASCII and single spaces are allowed");
    CHECK(refused("foster/1\tstatus\n") ==
          "request byte 9 is 0x09: only printable ASCII and single spaces are allowed");
    CHECK(refused("foster/1 status\n\n") ==
          "request byte 16 is 0x0a: only printable ASCII and single spaces are allowed");
    CHECK(refused("foster/1 status w\xc3\xa9\n") ==
          "request byte 18 is 0xc3: only printable ASCII and single spaces are allowed");
    CHECK(refused("foster/1 stat\0us\n"s) ==
          "request byte 14 is 0x00: only printable ASCII and single spaces are allowed");
    CHECK(refused("foster/1  status\n") == "extra space at request byte 10: tokens are separated by single spaces");
    CHECK(refused(" foster/1 status\n") == "extra space at request byte 1: tokens are separated by single spaces");
    CHECK(refused("foster/1 status \n") == "extra space at request byte 17: tokens are separated by single spaces");
}

TEST_CASE("parse_request: at most max_request_bytes, newline included") {
    // Distinct names of about 100 characters, up to 4095 bytes in all.
    std::string line = "foster/1 status ";
    int n = 0;
    while (line.size() < max_request_bytes - 1) {
        // Appended: `"s" + to_string(...)` makes GCC 12 at -O3 report a false
        // -Wrestrict (GCC bug 105329).
        std::string name = std::string("s").append(std::to_string(n++)).append(100, 'x');
        line += name + " ";
    }
    line.resize(max_request_bytes - 1);
    if (line.back() == ' ') line.back() = 'y';
    CHECK(line.size() + 1 == max_request_bytes);
    CHECK(parse_request(line + "\n").request);
    CHECK(parse_request(line).request);
    CHECK(refused(line + "z\n") == "request is longer than 4096 bytes");
    CHECK(refused(line + "z") == "request is longer than 4096 bytes");
}

TEST_CASE("parse_request: protocol and command") {
    CHECK(refused("foster/2 status\n") == "unsupported protocol 'foster/2' (expected foster/1)");
    CHECK(refused("status\n") == "unsupported protocol 'status' (expected foster/1)");
    CHECK(refused("FOSTER/1 status\n") == "unsupported protocol 'FOSTER/1' (expected foster/1)");
    CHECK(refused("foster/1\n") == "missing command after foster/1");
    CHECK(refused("foster/1 x\n") == "unknown command 'x'");
    CHECK(refused("foster/1 Status\n") == "unknown command 'Status'");
}

TEST_CASE("parse_request: names") {
    CHECK(refused("foster/1 start\n") == "start needs at least one service name");
    CHECK(refused("foster/1 stop\n") == "stop needs at least one service name");
    CHECK(refused("foster/1 restart --wait=10\n") == "restart needs at least one service name");
    CHECK(refused("foster/1 start web/1\n") == "bad service name 'web/1': 1 to 128 of A-Z a-z 0-9 _ . - @");
    CHECK(refused("foster/1 status a:b\n") == "bad service name 'a:b': 1 to 128 of A-Z a-z 0-9 _ . - @");
    CHECK(refused("foster/1 status " + std::string(129, 'x') + "\n") ==
          "bad service name '" + std::string(64, 'x') + "...': 1 to 128 of A-Z a-z 0-9 _ . - @");
    CHECK(refused("foster/1 stop web db web\n") == "service 'web' named twice");
}

TEST_CASE("parse_request: --wait") {
    CHECK(refused("foster/1 start --wait=abc web\n") == "bad --wait value 'abc': milliseconds, 0 to 8589934592");
    CHECK(refused("foster/1 start --wait= web\n") == "bad --wait value '': milliseconds, 0 to 8589934592");
    CHECK(refused("foster/1 start --wait=-1 web\n") == "bad --wait value '-1': milliseconds, 0 to 8589934592");
    CHECK(refused("foster/1 start --wait=+1 web\n") == "bad --wait value '+1': milliseconds, 0 to 8589934592");
    CHECK(refused("foster/1 start --wait=010 web\n") == "bad --wait value '010': milliseconds, 0 to 8589934592");
    CHECK(refused("foster/1 start --wait=8589934593 web\n") ==
          "bad --wait value '8589934593': milliseconds, 0 to 8589934592");
    CHECK(refused("foster/1 start --wait=99999999999999999999999 web\n") ==
          "bad --wait value '99999999999999999999999': milliseconds, 0 to 8589934592");
    CHECK(refused("foster/1 start --wait=1s web\n") == "bad --wait value '1s': milliseconds, 0 to 8589934592");
    CHECK(refused("foster/1 start --wait=1 --wait=2 web\n") == "--wait given twice");
    CHECK(refused("foster/1 start web --wait=1\n") == "--wait must come before the service names");
    CHECK(refused("foster/1 status --wait=1\n") == "status takes no --wait");
    CHECK(refused("foster/1 check --wait=1 web\n") == "check takes no --wait");
    CHECK(refused("foster/1 signal TERM --wait=1 web\n") == "signal takes no --wait");
}

TEST_CASE("parse_request: signal, reload, shutdown") {
    CHECK(refused("foster/1 signal\n") == "signal needs a signal and at least one service name");
    CHECK(refused("foster/1 signal TERM\n") == "signal needs at least one service name");
    CHECK(refused("foster/1 signal TERMINATE web\n") == "bad signal 'TERMINATE'");
    CHECK(refused("foster/1 signal 0 web\n") == "bad signal '0'");
    CHECK(refused("foster/1 signal 65 web\n") == "bad signal '65'");
    CHECK(refused("foster/1 signal web\n") == "bad signal 'web'");
    CHECK(parsed("foster/1 reload web db\n") == make(Command::reload, {"web", "db"}));
    CHECK(refused("foster/1 reload web web\n") == "service 'web' named twice");
    CHECK(refused("foster/1 reload bad/name\n").rfind("bad service name 'bad/name'", 0) == 0);
    CHECK(refused("foster/1 shutdown web\n") == "shutdown takes no arguments");
    CHECK(refused("foster/1 reopen web\n") == "reopen takes no arguments");
}

TEST_CASE("format_request writes the canonical line") {
    CHECK(format_request(make(Command::status)) == "foster/1 status\n");
    CHECK(format_request(make(Command::start, {"web", "db"}, Millis{1500})) == "foster/1 start --wait=1500 web db\n");
    CHECK(format_request(make(Command::signal, {"web"}, {}, SIGHUP)) == "foster/1 signal 1 web\n");
    CHECK(format_request(make(Command::shutdown)) == "foster/1 shutdown\n");
}

TEST_CASE("requests round trip") {
    const Request requests[] = {
        make(Command::status),
        make(Command::status, {"a", "b.c", "D_e-f"}),
        make(Command::check, {"web"}),
        make(Command::start, {"web"}),
        make(Command::start, {"web", "db"}, Millis{0}),
        make(Command::stop, {"web"}, max_wait),
        make(Command::restart, {"x"}, Millis{30'000}),
        make(Command::signal, {"web", "db"}, {}, SIGUSR2),
        make(Command::signal, {"web"}, {}, SIGRTMAX),
        make(Command::reload),
        make(Command::shutdown),
        make(Command::reopen),
    };
    for (const auto& request : requests) {
        const std::string line = format_request(request);
        INFO(line);
        const auto back = parse_request(line);
        REQUIRE(back.request);
        CHECK(*back.request == request);
    }
}

TEST_CASE("status rows: format") {
    CHECK(format_status_row(running_web()) == "service\tweb\trunning\t4242\t192000\t2\t1\thealthy\t-\n");
    CHECK(format_status_row(stopped("db")) == "service\tdb\tstopped\t-\t-\t0\t-\t-\t-\n");
    StatusRow empty_health = stopped("db");
    empty_health.health = "";
    CHECK(format_status_row(empty_health) == "service\tdb\tstopped\t-\t-\t0\t-\t-\t-\n");
}

TEST_CASE("status rows: round trip and edges") {
    for (const auto& row : {running_web(), stopped("db")}) {
        const auto back = parse_status_row(format_status_row(row));
        REQUIRE(back);
        CHECK(*back == row);
    }
    StatusRow big = running_web();
    big.pid = 2147483647;
    big.uptime_ms = 9223372036854775807LL;
    big.restarts = 4294967295U;
    big.exit_status = 255;
    CHECK(parse_status_row(format_status_row(big)) == big);
    big.exit_status = 0;
    big.uptime_ms = 0;
    big.restarts = 0;
    CHECK(parse_status_row(format_status_row(big)) == big);
    // Without the newline too.
    CHECK(parse_status_row("service\tdb\tstopped\t-\t-\t0\t-\t-") == stopped("db"));
}

TEST_CASE("status rows: the next scheduled run") {
    StatusRow row = stopped("backup");
    row.next_run = 1'800'000'000;
    CHECK(format_status_row(row) == "service\tbackup\tstopped\t-\t-\t0\t-\t-\t1800000000\n");
    CHECK(parse_status_row(format_status_row(row)) == row);
    // A row of 8 fields (a foster from before schedules) has none.
    CHECK(parse_status_row("service\tdb\tstopped\t-\t-\t0\t-\t-\n") == stopped("db"));
    CHECK(status_json({row}) ==
          "{\"services\":[{\"name\":\"backup\",\"state\":\"stopped\",\"pid\":null,\"restarts\":0,"
          "\"exit_status\":null,\"uptime_ms\":null,\"health\":null,\"next_run\":1800000000,\"overlap\":null}]}\n");
    const std::string table = status_table({row, stopped("db")});
    CHECK(table.substr(0, table.find('\n')) == "NAME    STATE    PID  UPTIME  RESTARTS  LAST-EXIT  NEXT-RUN");
    CHECK(table.find("\ndb      stopped  -    -       0         -          -\n") != std::string::npos);
}

TEST_CASE("status rows: instance names") {
    CHECK(foster::control::valid_name("web@2"));
    StatusRow row = stopped("web@2");
    CHECK(parse_status_row(format_status_row(row)) == row);
}

TEST_CASE("status rows: malformed") {
    const char* bad[] = {
        "",
        "\n",
        "service\n",
        "service\tdb\tstopped\t-\t-\t0\t-\n",           // a field short
        "service\tdb\tstopped\t-\t-\t0\t-\t-\t-\t-\n",  // a field too many
        "service\tdb\tstopped\t-\t-\t0\t-\t-\t\n",      // empty next run
        "service\tdb\tstopped\t-\t-\t0\t-\t-\t1.5\n",   // next run not whole seconds
        "service\tdb\tstopped\t-\t-\t0\t-\t-\t-1\n",    // negative next run
        "detail\tdb\tstopped\t-\t-\t0\t-\t-\n",         // not a row
        "service\tdb\tstopped\t-\t-\t0\t-\t-\n\n",      // two newlines
        "service\tdb/x\tstopped\t-\t-\t0\t-\t-\n",      // bad name
        "service\t\tstopped\t-\t-\t0\t-\t-\n",          // empty name
        "service\tdb\t\t-\t-\t0\t-\t-\n",               // empty state
        "service\tdb\tRunning\t-\t-\t0\t-\t-\n",        // state not a word
        "service\tdb\t-\t-\t-\t0\t-\t-\n",              // state "-"
        "service\tdb\tstopped\t0\t-\t0\t-\t-\n",        // pid 0
        "service\tdb\tstopped\t-1\t-\t0\t-\t-\n",       // negative pid
        "service\tdb\tstopped\t+1\t-\t0\t-\t-\n",       // signed pid
        "service\tdb\tstopped\t01\t-\t0\t-\t-\n",       // leading zero
        "service\tdb\tstopped\t2147483648\t-\t0\t-\t-\n",  // pid overflow
        "service\tdb\tstopped\t1x\t-\t0\t-\t-\n",
        "service\tdb\tstopped\t-\t9223372036854775808\t0\t-\t-\n",  // uptime overflow
        "service\tdb\tstopped\t-\t1.5\t0\t-\t-\n",
        "service\tdb\tstopped\t-\t-\t-\t-\t-\n",         // restarts is never "-"
        "service\tdb\tstopped\t-\t-\t4294967296\t-\t-\n",
        "service\tdb\tstopped\t-\t-\t0\t256\t-\n",       // exit status past 255
        "service\tdb\tstopped\t-\t-\t0\t-\tHealthy\n",
        "service\tdb\tstopped\t-\t-\t0\t-\t\n",          // empty health
        "service\tdb\tstopped\t-\t-\t0\t-\t- \n",
    };
    for (const char* line : bad) {
        INFO(line);
        CHECK_FALSE(parse_status_row(line));
    }
}

TEST_CASE("responses: format") {
    CHECK(format_response(Response{}) == "ok\n");
    Response status;
    status.rows = {running_web(), stopped("db")};
    CHECK(format_response(status) ==
          "ok\nservice\tweb\trunning\t4242\t192000\t2\t1\thealthy\t-\nservice\tdb\tstopped\t-\t-\t0\t-\t-\t-\n");
    Response refused_reload;
    refused_reload.ok = false;
    refused_reload.error = "reload refused: 2 errors in /etc/foster.toml";
    refused_reload.details = {"/etc/foster.toml:3:1: unknown key 'x'", "/etc/foster.toml:9:12: bad\tvalue"};
    CHECK(format_response(refused_reload) ==
          "error reload refused: 2 errors in /etc/foster.toml\n"
          "detail\t/etc/foster.toml:3:1: unknown key 'x'\n"
          "detail\t/etc/foster.toml:9:12: bad\tvalue\n");
}

TEST_CASE("responses: control characters cannot split or forge a line") {
    Response r;
    r.ok = false;
    r.error = "bad\nok";
    r.details = {"one\ndetail\tforged", "bell\a del\x7f"};
    CHECK(format_response(r) == "error bad?ok\ndetail\tone?detail\tforged\ndetail\tbell? del?\n");
    Response empty_error;
    empty_error.ok = false;
    CHECK(format_response(empty_error) == "error unspecified error\n");
}

TEST_CASE("responses: round trip") {
    Response a;
    Response b;
    b.rows = {running_web(), stopped("db")};
    Response c;
    c.ok = false;
    c.error = "web: not ready within 30s";
    c.details = {"web: exited with status 1", "", "caf\xc3\xa9.toml:1:1: \tx"};
    Response d;
    d.details = {"warning"};
    d.rows = {stopped("x")};
    for (const auto& response : {a, b, c, d}) {
        const std::string text = format_response(response);
        INFO(text);
        const auto back = parse_response(text);
        REQUIRE(back);
        CHECK(*back == response);
    }
}

TEST_CASE("responses: what parse_response takes apart") {
    const auto r = parse_response("error not healthy\ndetail\tweb: unhealthy\nservice\tdb\tstopped\t-\t-\t0\t-\t-\n");
    REQUIRE(r);
    CHECK_FALSE(r->ok);
    CHECK(r->error == "not healthy");
    CHECK(r->details == std::vector<std::string>{"web: unhealthy"});
    CHECK(r->rows == std::vector<StatusRow>{stopped("db")});
}

TEST_CASE("responses: malformed") {
    const std::string bad[] = {
        "",
        "\n",
        "ok",                                     // truncated: no newline
        "ok\nservice\tdb\tstopped\t-\t-\t0\t-\t-",  // truncated row
        "OK\n",
        "ok \n",
        "okay\n",
        "error\n",
        "error \n",
        "error\tx\n",
        "error x\ry\n",
        "ok\n\n",                                 // an empty line
        "ok\nwarning\tx\n",                       // unknown kind
        "ok\ndetail\n",                           // no tab
        "ok\ndetail x\n",
        "ok\ndetail\tx\x01y\n",
        "ok\ndetail\tx\0y\n"s,
        "ok\nservice\tdb\n",
        "ok\nservice\tdb\tstopped\t-\t-\t0\t-\t-\t\n",
        "\nok\n",
        "ok\nok\n",
    };
    for (const auto& text : bad) {
        INFO(text);
        CHECK_FALSE(parse_response(text));
    }
}

TEST_CASE("status_json: exact output") {
    CHECK(status_json({}) == "{\"services\":[]}\n");
    CHECK(status_json({running_web(), stopped("db")}) ==
          "{\"services\":["
          "{\"name\":\"web\",\"state\":\"running\",\"pid\":4242,\"restarts\":2,\"exit_status\":1,"
          "\"uptime_ms\":192000,\"health\":\"healthy\",\"next_run\":null,\"overlap\":null},"
          "{\"name\":\"db\",\"state\":\"stopped\",\"pid\":null,\"restarts\":0,\"exit_status\":null,"
          "\"uptime_ms\":null,\"health\":null,\"next_run\":null,\"overlap\":null}"
          "]}\n");
}

TEST_CASE("status_json: strings are escaped") {
    StatusRow odd = stopped("a\"b\\c");
    odd.state = "x\ny\tz\x01\x1f\b\f\r";
    odd.health = "";
    odd.exit_status = 0;
    CHECK(status_json({odd}) ==
          "{\"services\":[{\"name\":\"a\\\"b\\\\c\",\"state\":\"x\\ny\\tz\\u0001\\u001f\\b\\f\\r\","
          "\"pid\":null,\"restarts\":0,\"exit_status\":0,\"uptime_ms\":null,\"health\":null,\"next_run\":null,"
          "\"overlap\":null}]}\n");
}

TEST_CASE("format_uptime") {
    CHECK(format_uptime(0) == "0s");
    CHECK(format_uptime(999) == "0s");
    CHECK(format_uptime(59'999) == "59s");
    CHECK(format_uptime(60'000) == "1m0s");
    CHECK(format_uptime(192'000) == "3m12s");
    CHECK(format_uptime(3'599'999) == "59m59s");
    CHECK(format_uptime(3'600'000) == "1h0m");
    CHECK(format_uptime(7'500'000) == "2h5m");
    CHECK(format_uptime(86'400'000) == "1d0h");
    CHECK(format_uptime(3LL * 86'400'000 + 4 * 3'600'000 + 59 * 60'000) == "3d4h");
    CHECK(format_uptime(-1) == "-");
}

TEST_CASE("status_table: aligned, HEALTH only when a service has a healthcheck") {
    StatusRow worker = stopped("worker-long-name");
    worker.exit_status = 143;
    worker.restarts = 12;
    CHECK(status_table({stopped("db"), worker}) ==
          "NAME              STATE    PID  UPTIME  RESTARTS  LAST-EXIT\n"
          "db                stopped  -    -       0         -\n"
          "worker-long-name  stopped  -    -       12        143\n");
    CHECK(status_table({running_web(), stopped("db")}) ==
          "NAME  STATE    PID   UPTIME  RESTARTS  LAST-EXIT  HEALTH\n"
          "web   running  4242  3m12s   2         1          healthy\n"
          "db    stopped  -     -       0         -          -\n");
    CHECK(status_table({}) == "NAME  STATE  PID  UPTIME  RESTARTS  LAST-EXIT\n");
}

TEST_CASE("socket_path: precedence") {
    const std::optional<std::string> none;
    const std::optional<std::string> cli = "/cli.sock";
    const std::optional<std::string> config = "/config.sock";
    CHECK(socket_path(cli, "/env.sock", config, 1000, "/xdg") == "/cli.sock");
    CHECK(socket_path(cli, "/env.sock", config, 0, "/xdg") == "/cli.sock");
    CHECK(socket_path(none, "/env.sock", config, 1000, "/xdg") == "/env.sock");
    CHECK(socket_path(none, "/env.sock", config, 0, nullptr) == "/env.sock");
    CHECK(socket_path(none, nullptr, config, 1000, "/xdg") == "/config.sock");
    CHECK(socket_path(none, "", config, 1000, "/xdg") == "/config.sock");
    CHECK(socket_path(none, nullptr, config, 0, nullptr) == "/config.sock");
    CHECK(socket_path(none, nullptr, none, 0, "/run/user/0") == "/run/foster.sock");
    CHECK(socket_path(none, nullptr, none, 1000, "/run/user/1000") == "/run/user/1000/foster.sock");
    CHECK(socket_path(none, nullptr, none, 1000, nullptr) == "/tmp/foster-1000.sock");
    CHECK(socket_path(none, nullptr, none, 1000, "") == "/tmp/foster-1000.sock");
}

// ------------------------------------------------------ overlapping restarts

namespace {

StatusRow overlapping_web() {
    StatusRow row = running_web();
    row.state = "starting";
    row.pid = 5000;
    row.overlap_pid = 4242;
    row.overlap_role = "serving";
    return row;
}

}  // namespace

TEST_CASE("parse_request: restart --mode=overlap") {
    Request overlap = make(Command::restart, {"web", "db"}, Millis{30'000});
    overlap.overlap = true;
    CHECK(parsed("foster/1 restart --wait=30000 --mode=overlap web db\n") == overlap);
    CHECK(format_request(overlap) == "foster/1 restart --wait=30000 --mode=overlap web db\n");
    overlap.wait.reset();
    CHECK(parsed("foster/1 restart --mode=overlap web db\n") == overlap);
    CHECK(parse_request(format_request(overlap)).request == overlap);
    CHECK(refused("foster/1 restart --mode=overlap\n") == "restart needs at least one service name");
    CHECK(refused("foster/1 restart --mode=fast web\n") == "bad --mode value 'fast': only 'overlap'");
    CHECK(refused("foster/1 restart web --mode=overlap\n") ==
          "--mode must come right after --wait, before the service names");
    CHECK(refused("foster/1 restart --mode=overlap --mode=overlap web\n") ==
          "--mode must come right after --wait, before the service names");
    CHECK(refused("foster/1 start --mode=overlap web\n") == "start takes no --mode");
    CHECK(refused("foster/1 stop --wait=1 --mode=overlap web\n") == "stop takes no --mode");
    CHECK(refused("foster/1 status --mode=overlap\n") == "status takes no --mode");
}

TEST_CASE("status rows: the other run of an overlapping restart") {
    CHECK(format_status_row(overlapping_web()) ==
          "service\tweb\tstarting\t5000\t192000\t2\t1\thealthy\t-\t4242\tserving\n");
    CHECK(parse_status_row(format_status_row(overlapping_web())) == overlapping_web());
    // Rows without it end at the next run.
    CHECK(format_status_row(running_web()) == "service\tweb\trunning\t4242\t192000\t2\t1\thealthy\t-\n");
    CHECK_FALSE(parse_status_row("service\tweb\trunning\t1\t-\t0\t-\t-\t-\t0\tserving\n"));   // pid 0
    CHECK_FALSE(parse_status_row("service\tweb\trunning\t1\t-\t0\t-\t-\t-\t-\tserving\n"));   // no pid
    CHECK_FALSE(parse_status_row("service\tweb\trunning\t1\t-\t0\t-\t-\t-\t12\tSERVING\n"));  // not a word
    CHECK_FALSE(parse_status_row("service\tweb\trunning\t1\t-\t0\t-\t-\t-\t12\n"));            // role missing
}

TEST_CASE("status_json and status_table show both pids") {
    CHECK(status_json({overlapping_web()}) ==
          "{\"services\":[{\"name\":\"web\",\"state\":\"starting\",\"pid\":5000,\"restarts\":2,"
          "\"exit_status\":1,\"uptime_ms\":192000,\"health\":\"healthy\",\"next_run\":null,\"overlap\":{\"pid\":4242,"
          "\"role\":\"serving\"}}]}\n");
    CHECK(status_table({overlapping_web(), stopped("db")}) ==
          "NAME  STATE     PID   UPTIME  RESTARTS  LAST-EXIT  HEALTH   OVERLAP\n"
          "web   starting  5000  3m12s   2         1          healthy  4242 serving\n"
          "db    stopped   -     -       0         -          -        -\n");
}

TEST_CASE("parse_response with a row sink: rows in order, none kept, the same checks") {
    Response whole;
    whole.rows = {running_web(), stopped("db"), stopped("cache")};
    whole.details = {"one detail"};
    const std::string text = format_response(whole);
    std::vector<StatusRow> seen;
    const auto streamed = parse_response(text, [&seen](StatusRow&& row) { seen.push_back(std::move(row)); });
    REQUIRE(streamed);
    CHECK(streamed->ok);
    CHECK(streamed->rows.empty());
    CHECK(streamed->details == whole.details);
    CHECK(seen == whole.rows);
    // Malformed anywhere, even after rows went to the sink: nothing.
    for (const std::string& bad : std::vector<std::string>{text + "junk\n", std::string("ok\n\n"), text.substr(0, text.size() - 1),
                                  "ok\nservice\tweb\trunning\n"}) {
        INFO(bad);
        CHECK_FALSE(parse_response(bad, [](StatusRow&&) {}));
    }
}

TEST_CASE("StatusTable and StatusJson a row at a time: the same text as whole, in any pieces") {
    StatusRow scheduled = stopped("nightly-backup-job");
    scheduled.next_run = 1'700'000'000;
    // The last row is the widest and the only one with a schedule: the header
    // and the first rows must already be laid out for it.
    const std::vector<StatusRow> rows = {running_web(), stopped("db"), overlapping_web(), scheduled};
    StatusTable table;
    for (const auto& row : rows) table.measure(row);
    std::string pieces, all;
    StatusJson json;
    std::string json_pieces, json_all;
    for (const auto& row : rows) {
        table.add(row, pieces);
        all += pieces;
        pieces.clear();  // what a caller that passed the piece on holds
        json.add(row, json_pieces);
        json_all += json_pieces;
        json_pieces.clear();
    }
    table.finish(pieces);
    all += pieces;
    json.finish(json_pieces);
    json_all += json_pieces;
    CHECK(all == status_table(rows));
    CHECK(json_all == status_json(rows));
    CHECK(all.find("NEXT-RUN") != std::string::npos);
    CHECK(all.substr(0, all.find('\n')).find("OVERLAP") != std::string::npos);
    StatusTable empty;
    std::string header;
    empty.finish(header);
    CHECK(header == "NAME  STATE  PID  UPTIME  RESTARTS  LAST-EXIT\n");
}
