// parse_syslog: what glibc's syslog(3) and logger(1) send to /dev/log, and
// whatever else arrives there, each turned into a tag, a priority and a text.
#include <doctest/doctest.h>

#include <string>

#include "log_protocol.hpp"
#include "syslog_message.hpp"

using namespace foster;

TEST_CASE("RFC 3164 as glibc and logger send it locally") {
    const auto m = parse_syslog("<78>Dec  6 23:40:01 cron[123]: (root) CMD (run-parts)\n");
    CHECK(m.priority == 78);  // cron.info
    CHECK(m.name == "cron");
    CHECK(m.pid == 123);
    CHECK(m.text == "(root) CMD (run-parts)");
    const auto logger = parse_syslog("<13>Dec 16 03:04:05 cron: hello");
    CHECK(logger == SyslogMessage{13, "cron", std::nullopt, "hello"});
    CHECK(parse_syslog("<22>Jan  1 00:00:00 postfix/smtpd[99]: connect").name == "postfix/smtpd");
}

TEST_CASE("RFC 5424 (logger --rfc5424)") {
    const auto m = parse_syslog("<165>1 2026-12-06T23:40:01.123456+00:00 host app 77 ID47 "
                                "[exampleSDID@32473 iut=\"3\" eventSource=\"App\\]x\"] \xef\xbb\xbfmessage here");
    CHECK(m.priority == 165);
    CHECK(m.name == "app");
    CHECK(m.pid == 77);
    CHECK(m.text == "message here");
    const auto bare = parse_syslog("<13>1 - - - - - - just text");
    CHECK(bare.name == "syslog");
    CHECK_FALSE(bare.pid);
    CHECK(bare.text == "just text");
}

TEST_CASE("anything else is still a message") {
    CHECK(parse_syslog("") == SyslogMessage{13, "syslog", std::nullopt, ""});
    CHECK(parse_syslog("no header at all").text == "no header at all");
    CHECK(parse_syslog("no header at all").name == "syslog");
    CHECK(parse_syslog("<999>x: y").priority == 13);       // out of range: not a PRI
    CHECK(parse_syslog("<999>x: y").text == "y");
    CHECK(parse_syslog("<13>tag[nopid: x").text == "tag[nopid: x");
    CHECK(parse_syslog("<13>two words: x").text == "two words: x");
    CHECK(parse_syslog(std::string("<13>t\xff\x01g: x", 11)).name == "t__g");
    CHECK(parse_syslog("<13>" + std::string(200, 'a') + ": x").name == "syslog");  // tag too long
    CHECK(parse_syslog("<13>1 ").name == "syslog");
    CHECK(parse_syslog("<13>1 [unterminated").text.empty());
}

TEST_CASE("a tag becomes a name foster can show and be asked for") {
    CHECK(syslog_name("cron") == "cron");
    CHECK(syslog_name("") == "syslog");
    CHECK(syslog_name("a b:c") == "a_b_c");
    CHECK(syslog_name(std::string(100, 'x')).size() == max_syslog_tag);
    CHECK(control::valid_log_name(syslog_name("x\x01y/z")));
}
