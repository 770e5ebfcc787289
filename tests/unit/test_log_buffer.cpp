// LogBuffer: each service's last lines, bounded in lines and in bytes, in
// arrival order across services, with the run they came from; and the wire
// form of a line (log_protocol.hpp).
#include <doctest/doctest.h>

#include <string>

#include "config.hpp"
#include "control_protocol.hpp"
#include "log_buffer.hpp"
#include "log_protocol.hpp"

using namespace foster;

namespace {

std::vector<std::string> texts(const LogBuffer::Selection& selection) {
    std::vector<std::string> out;
    for (const auto* line : selection.lines) out.push_back(line->name + ":" + line->text);
    return out;
}

}  // namespace

TEST_CASE("a ring keeps the last max_lines lines, oldest dropped first") {
    LogRing ring(3);
    for (int i = 1; i <= 5; ++i) ring.push(LogLine{static_cast<std::uint64_t>(i), i, "s", LogStream::out, 1, -1, std::to_string(i)});
    REQUIRE(ring.lines().size() == 3);
    CHECK(ring.lines()[0].text == "3");
    CHECK(ring.lines()[2].text == "5");
    CHECK(ring.bytes() == 3);
}

TEST_CASE("a ring is bounded in bytes: long lines leave fewer of them") {
    LogRing ring(4);  // 4 × 256 bytes
    const std::string long_line(400, 'x');
    for (int i = 0; i < 4; ++i) ring.push(LogLine{static_cast<std::uint64_t>(i + 1), 0, "s", LogStream::out, 1, -1, long_line});
    CHECK(ring.lines().size() == 2);  // 800 bytes; a third would be 1200 > 1024
    CHECK(ring.bytes() <= ring.max_bytes());
    // A line longer than the whole bound is still kept, alone.
    ring.push(LogLine{9, 0, "s", LogStream::out, 1, -1, std::string(5000, 'y')});
    REQUIRE(ring.lines().size() == 1);
    CHECK(ring.lines()[0].seq == 9);
    CHECK(ring.bytes() == 5000);
}

TEST_CASE("resizing a ring drops what no longer fits; 0 keeps nothing") {
    LogRing ring(10);
    for (int i = 0; i < 10; ++i) ring.push(LogLine{static_cast<std::uint64_t>(i + 1), 0, "s", LogStream::out, 1, -1, "l"});
    ring.resize(4);
    CHECK(ring.lines().size() == 4);
    CHECK(ring.lines().front().seq == 7);
    ring.resize(0);
    CHECK(ring.lines().empty());
    CHECK(ring.bytes() == 0);
    ring.push(LogLine{20, 0, "s", LogStream::out, 1, -1, "l"});
    CHECK(ring.lines().empty());
}

TEST_CASE("services are merged in arrival order; -n takes the last of the merge") {
    LogBuffer buffer;
    buffer.configure("a", 10);
    buffer.configure("b", 10);
    buffer.append("a", LogStream::out, "1", 100);
    buffer.append("b", LogStream::err, "2", 90);  // the wall clock stepped back: arrival order still wins
    buffer.append("a", LogStream::out, "3", 110);
    CHECK(texts(buffer.select({})) == std::vector<std::string>{"a:1", "b:2", "a:3"});
    CHECK(texts(buffer.select({{}, 2, {}})) == std::vector<std::string>{"b:2", "a:3"});
    CHECK(texts(buffer.select({{"b"}, {}, {}})) == std::vector<std::string>{"b:2"});
    CHECK(texts(buffer.select({{}, {}, 100})) == std::vector<std::string>{"a:1", "a:3"});
    CHECK(texts(buffer.select({{}, 0, {}})).empty());
}

TEST_CASE("lines carry their run; earlier runs stay until pushed out") {
    LogBuffer buffer;
    buffer.configure("a", 3);
    buffer.new_run("a");
    buffer.append("a", LogStream::out, "first", 1);
    buffer.new_run("a");
    buffer.append("a", LogStream::out, "second", 2);
    auto lines = buffer.select({}).lines;
    REQUIRE(lines.size() == 2);
    CHECK(lines[0]->run == 1);
    CHECK(lines[1]->run == 2);
    buffer.append("a", LogStream::out, "x", 3);
    buffer.append("a", LogStream::out, "y", 4);
    lines = buffer.select({}).lines;
    REQUIRE(lines.size() == 3);
    CHECK(lines[0]->text == "second");
}

TEST_CASE("unknown names and services that keep nothing are errors; syslog names are not") {
    LogBuffer buffer;
    buffer.configure("kept", 5);
    buffer.configure("off", 0);
    buffer.append("off", LogStream::out, "dropped", 1);
    buffer.append("nobody", LogStream::out, "dropped", 1);
    CHECK(buffer.select({}).lines.empty());
    CHECK(buffer.select({{"nosuch"}, {}, {}}).error == "unknown service 'nosuch'");
    CHECK(buffer.select({{"off"}, {}, {}}).error.find("keeps no output") != std::string::npos);
    buffer.configure_syslog(5);
    CHECK(buffer.select({{"cron"}, {}, {}}).error.empty());  // may yet log through /dev/log
    CHECK(buffer.select({{"off"}, {}, {}}).error.empty());   // its daemon may log there too
    buffer.append("cron", LogStream::syslog, "hello", 2, 78);
    auto lines = buffer.select({{"cron"}, {}, {}}).lines;
    REQUIRE(lines.size() == 1);
    CHECK(lines[0]->priority == 78);
    CHECK(lines[0]->run == 0);
}

TEST_CASE("keep_only forgets removed services; the listener hears every kept line") {
    LogBuffer buffer;
    std::vector<std::string> heard;
    buffer.set_listener([&](const LogLine& line) { heard.push_back(line.text); });
    buffer.configure("a", 5);
    buffer.configure("b", 5);
    buffer.append("a", LogStream::out, "x", 1);
    buffer.append("b", LogStream::out, "y", 1);
    buffer.keep_only({"b"});
    CHECK(buffer.ring("a") == nullptr);
    CHECK(texts(buffer.select({})) == std::vector<std::string>{"b:y"});
    CHECK(heard == std::vector<std::string>{"x", "y"});
}

TEST_CASE("a log line survives the wire, whatever bytes its text holds") {
    const std::string nasty = std::string("tab\there\\back\x01\x7f nul:") + '\0' + "\xff\xfe utf8: \xc3\xa9";
    const LogLine line{42, 1765051502123, "postfix/smtpd", LogStream::syslog, 0, 22, nasty};
    const std::string wire = control::format_log_line(line);
    CHECK(wire.find('\n') == wire.size() - 1);
    CHECK(std::count(wire.begin(), wire.end(), '\t') == 7);
    const auto back = control::parse_log_line(wire);
    REQUIRE(back);
    CHECK(*back == line);
    CHECK_FALSE(control::parse_log_line("line\t0\t1\ta\tstdout\t1\t-\tx"));         // seq 0
    CHECK_FALSE(control::parse_log_line("line\t1\t1\ta b\tstdout\t1\t-\tx"));       // bad name
    CHECK_FALSE(control::parse_log_line("line\t1\t1\ta\tstdin\t1\t-\tx"));          // bad stream
    CHECK_FALSE(control::parse_log_line("line\t1\t1\ta\tstdout\t1\t-\t\\x41"));     // not a control byte
    CHECK_FALSE(control::parse_log_line("line\t1\t1\ta\tstdout\t1\t-\t\\x0"));      // cut short
    CHECK_FALSE(control::parse_log_line("line\t1\t1\ta\tstdout\t1\t-1\tx"));         // a sign (found by fuzzing)
    CHECK_FALSE(control::parse_log_line("line\t1\t-5\ta\tstdout\t1\t-\tx"));
    CHECK(control::parse_cut("cut\tslow\n") == std::string("slow"));
}

TEST_CASE("what fosterctl shows: UTC time with milliseconds, JSON with invalid UTF-8 escaped") {
    const LogLine line{1, 1765051502123, "web", LogStream::err, 3, -1, "caf\xc3\xa9 \xff \"q\""};
    CHECK(control::format_utc_ms(1765051502123) == "2025-12-06T20:05:02.123Z");
    CHECK(control::format_utc_ms(0) == "1970-01-01T00:00:00.000Z");
    CHECK(control::log_line_text(line) == "2025-12-06T20:05:02.123Z web | caf\xc3\xa9 \xff \"q\"\n");
    CHECK(control::log_line_json(line) ==
          "{\"time\":\"2025-12-06T20:05:02.123Z\",\"time_ms\":1765051502123,\"name\":\"web\",\"stream\":\"stderr\","
          "\"run\":3,\"text\":\"caf\xc3\xa9 \\udcff \\\"q\\\"\"}\n");
    const LogLine sys{2, 0, "cron", LogStream::syslog, 0, 78, "hi"};
    CHECK(control::log_line_json(sys).find("\"facility\":9,\"severity\":6") != std::string::npos);
}

TEST_CASE("logs requests") {
    using control::parse_request;
    const auto r = parse_request("foster/1 logs --last=5 --since=60000 --follow web postfix/smtpd");
    REQUIRE(r.request);
    CHECK(r.request->command == control::Command::logs);
    CHECK(r.request->last == 5u);
    CHECK(r.request->since == Millis{60000});
    CHECK(r.request->follow);
    CHECK(r.request->names == std::vector<std::string>{"web", "postfix/smtpd"});
    CHECK(parse_request(control::format_request(*r.request)).request == r.request);
    CHECK(parse_request("foster/1 logs").request);
    CHECK(parse_request("foster/1 logs --follow --follow").error == "--follow given twice");
    CHECK(parse_request("foster/1 logs --last=x").error.find("bad --last value") == 0);
    CHECK(parse_request("foster/1 logs --tail=3").error == "unknown logs option '--tail=3'");
    CHECK(parse_request("foster/1 logs web --last=3").error == "logs options must come before the names");
    CHECK(parse_request("foster/1 logs a a").error == "name 'a' given twice");
    CHECK(parse_request("foster/1 logs a:b").error.find("bad name") == 0);
}

TEST_CASE("log_buffer and syslog in the config") {
    const auto defaults = parse_config("[services.a]\ncommand = \"x\"\n", "t.toml");
    REQUIRE(defaults.config);
    CHECK(defaults.config->log_buffer == default_log_lines);
    CHECK_FALSE(defaults.config->syslog);
    CHECK_FALSE(defaults.config->services[0].log_buffer);
    const auto set = parse_config("[foster]\nlog_buffer = 0\nsyslog = true\n[services.a]\ncommand = \"x\"\n"
                                  "stderr = \"prefix\"\nlog_buffer = 20\n", "t.toml");
    REQUIRE(set.config);
    CHECK(set.config->log_buffer == 0);
    CHECK(set.config->syslog == true);
    CHECK(set.config->services[0].log_buffer == 20u);
}
