// NonblockingWriter: lines to a shared descriptor without blocking, a
// bounded backlog, whole lines dropped and counted, then reported.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "nonblocking_writer.hpp"

using namespace foster;

namespace {

struct TestPipe {
    Fd read_end, write_end;
    TestPipe() {
        int ends[2];
        REQUIRE(pipe2(ends, O_CLOEXEC) == 0);  // blocking, like a shared stdout
        read_end.reset(ends[0]);
        write_end.reset(ends[1]);
        REQUIRE(fcntl(write_end.get(), F_SETPIPE_SZ, 4096) >= 0);
    }
    std::string read_all() {
        fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
        std::string out;
        char buf[4096];
        for (ssize_t n; (n = ::read(read_end.get(), buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
        return out;
    }
};

// A blocked write would hang the test: SIGALRM ends it instead.
struct Watchdog {
    Watchdog() { alarm(20); }
    ~Watchdog() { alarm(0); }
};

std::string line(int i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "svc | line %05d ........................................\n", i);
    return buf;
}

}  // namespace

TEST_CASE("a pipe nobody reads: nothing blocks, the backlog is bounded, lines are dropped whole") {
    Watchdog watchdog;
    TestPipe pipe;
    NonblockingWriter writer(pipe.write_end.get(), 1000);
    CHECK(writer.method() == NonblockingWriter::Method::private_description);
    const int total = 500;
    for (int i = 0; i < total; ++i) writer.write_lines("svc", line(i));
    // The shared description stays blocking: other writers see no EAGAIN.
    CHECK((fcntl(pipe.write_end.get(), F_GETFL) & O_NONBLOCK) == 0);
    CHECK(writer.backlog_bytes() <= 1000);
    CHECK(writer.backlog_bytes() > 0);
    const auto dropped = writer.dropped_lines();
    CHECK(dropped > 0);

    // Reading makes room; the backlog goes out, then one report line.
    EventLoop loop;
    writer.attach(loop);
    std::string got;
    for (int turns = 0; turns < 100 && got.find("foster: dropped") == std::string::npos; ++turns) {
        got += pipe.read_all();
        if (writer.backlog_bytes() > 0) loop.run_once();
        got += pipe.read_all();
    }
    CHECK(writer.backlog_bytes() == 0);
    const std::string report = "foster: dropped " + std::to_string(dropped) + " lines of svc output\n";
    REQUIRE(got.size() >= report.size());
    CHECK(got.substr(got.size() - report.size()) == report);
    // Every line that arrived is whole and in order; with the dropped ones, all are accounted for.
    const std::string lines = got.substr(0, got.size() - report.size());
    int seen = 0, last = -1;
    for (std::size_t pos = 0; pos < lines.size();) {
        const std::size_t nl = lines.find('\n', pos);
        REQUIRE(nl != std::string::npos);
        const int number = std::stoi(lines.substr(pos + 11, 5));
        CHECK(lines.substr(pos, nl + 1 - pos) == line(number));
        CHECK(number > last);
        last = number;
        ++seen;
        pos = nl + 1;
    }
    CHECK(static_cast<std::uint64_t>(seen) + dropped == static_cast<std::uint64_t>(total));

    // Writing works again: lines go straight out.
    writer.write_lines("svc", line(999));
    CHECK(pipe.read_all() == line(999));
}

TEST_CASE("the way of writing follows the kind of descriptor") {
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    Fd a{sv[0]}, b{sv[1]};
    CHECK(NonblockingWriter(a.get()).method() == NonblockingWriter::Method::socket);
    FILE* file = std::tmpfile();
    REQUIRE(file != nullptr);
    CHECK(NonblockingWriter(fileno(file)).method() == NonblockingWriter::Method::direct);
    std::fclose(file);
}

TEST_CASE("a socket nobody reads does not block either") {
    Watchdog watchdog;
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    Fd a{sv[0]}, b{sv[1]};
    NonblockingWriter writer(a.get(), 1000);
    for (int i = 0; i < 20000; ++i) writer.write_lines("svc", line(i));
    CHECK(writer.dropped_lines() > 0);
    CHECK((fcntl(a.get(), F_GETFL) & O_NONBLOCK) == 0);
}

TEST_CASE("a destination that is gone loses the output, not the writer") {
    TestPipe pipe;
    pipe.read_end.reset();
    NonblockingWriter writer(pipe.write_end.get(), 1000);
    signal(SIGPIPE, SIG_IGN);
    writer.write_lines("svc", line(1));
    CHECK(writer.backlog_bytes() == 0);
    signal(SIGPIPE, SIG_DFL);
}

TEST_CASE("a destination that fails drops lines with a count, reported once it takes lines again") {
    Watchdog watchdog;
    TestPipe pipe;
    // A descriptor number that is closed (EBADF), as foster's stderr can be.
    const int slot = fcntl(pipe.write_end.get(), F_DUPFD_CLOEXEC, 100);
    REQUIRE(slot >= 0);
    ::close(slot);
    NonblockingWriter writer(slot, 1000);
    EventLoop loop;
    writer.attach(loop);
    writer.write_lines("foster", "one\n");
    writer.write_lines("foster", "two\nthree\n");
    writer.write_lines("svc", line(1));
    CHECK(writer.broken());
    CHECK(writer.backlog_bytes() == 0);  // nothing kept for a destination that may never come back
    CHECK(writer.dropped_lines() == 4);
    // The number is taken by a working pipe again: the next line brings the report first.
    REQUIRE(dup3(pipe.write_end.get(), slot, O_CLOEXEC) == slot);
    Fd taken{slot};
    writer.write_lines("foster", "four\n");
    CHECK_FALSE(writer.broken());
    CHECK(pipe.read_all() ==
          "foster: dropped 3 lines of foster output\nfoster: dropped 1 line of svc output\nfour\n");
    writer.detach();
}

TEST_CASE("a broken pipe is not watched on the loop: it would always be ready") {
    Watchdog watchdog;
    TestPipe pipe;
    signal(SIGPIPE, SIG_IGN);
    EventLoop loop;
    NonblockingWriter writer(pipe.write_end.get(), 100000);
    writer.attach(loop);
    // Fill the pipe so lines wait in the backlog, then the reader goes.
    for (int i = 0; i < 200; ++i) writer.write_lines("svc", line(i));
    REQUIRE(writer.backlog_bytes() > 0);
    pipe.read_end.reset();
    writer.write_lines("svc", line(1000));
    CHECK(writer.broken());
    const auto before = writer.dropped_lines();
    writer.write_lines("svc", line(1001));
    CHECK(writer.dropped_lines() == before + 1);
    // finish() gives up at once instead of polling an always-ready pipe.
    const auto t0 = std::chrono::steady_clock::now();
    writer.finish(std::chrono::seconds(5));
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
    writer.detach();
    signal(SIGPIPE, SIG_DFL);
}

TEST_CASE("writing nothing is not a failed destination") {
    Watchdog watchdog;
    TestPipe pipe;
    NonblockingWriter writer(pipe.write_end.get(), 1000);
    writer.write_lines("svc", "");  // a read of a partial line: no complete line yet
    CHECK_FALSE(writer.broken());
    writer.write_lines("svc", "next\n");
    CHECK(writer.dropped_lines() == 0);
    CHECK(pipe.read_all() == "next\n");
}
