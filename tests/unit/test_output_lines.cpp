// The pure parts of the output pipeline: sizes, the line splitter, timestamps.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "byte_size.hpp"
#include "line_splitter.hpp"
#include "timestamps.hpp"

using namespace foster;

namespace {

using Pieces = std::vector<std::pair<std::string, LineEnd>>;

Pieces feed_all(LineSplitter& splitter, const std::vector<std::string>& chunks, bool flush = false) {
    Pieces out;
    auto emit = [&](std::string_view text, LineEnd end) { out.emplace_back(std::string(text), end); };
    for (const auto& chunk : chunks) splitter.feed(chunk, emit);
    if (flush) splitter.flush(emit);
    return out;
}

}  // namespace

TEST_CASE("byte sizes: binary and decimal units, exactly spelled") {
    CHECK(parse_byte_size("0") == 0u);
    CHECK(parse_byte_size("4096") == 4096u);
    CHECK(parse_byte_size("100B") == 100u);
    CHECK(parse_byte_size("1KiB") == 1024u);
    CHECK(parse_byte_size("10MiB") == 10u << 20);
    CHECK(parse_byte_size("2GiB") == 2ull << 30);
    CHECK(parse_byte_size("1KB") == 1000u);
    CHECK(parse_byte_size("10MB") == 10'000'000u);
    CHECK(parse_byte_size("3GB") == 3'000'000'000u);
    CHECK(parse_byte_size("10 MiB") == 10u << 20);
    for (const char* bad : {"", "MiB", "10M", "10mb", "10 ", "10  MiB", "-1", "1.5MiB", "10MiBs", "10TiB",
                            "99999999999999999999", "9999999999GiB", " 10"})
        CHECK_MESSAGE(!parse_byte_size(bad), bad);
    CHECK(format_byte_size(1u << 20) == "1MiB");
    CHECK(format_byte_size(1500) == "1500B");
    CHECK(format_byte_size(2000) == "2KB");
}

TEST_CASE("the splitter hands on whole lines across reads") {
    LineSplitter s;
    const Pieces got = feed_all(s, {"one\ntw", "o\n", "", "three\nfo"});
    CHECK(got == Pieces{{"one", LineEnd::newline}, {"two", LineEnd::newline}, {"three", LineEnd::newline}});
    CHECK(s.pending_bytes() == 2);
    CHECK(feed_all(s, {}, true) == Pieces{{"fo", LineEnd::partial}});
    CHECK(s.pending_bytes() == 0);
    CHECK(feed_all(s, {}, true).empty());  // nothing pending: nothing flushed
    CHECK(feed_all(s, {"\n\n"}) == Pieces{{"", LineEnd::newline}, {"", LineEnd::newline}});
}

TEST_CASE("a line longer than the bound is cut into pieces marked as continuing") {
    LineSplitter s(4);
    CHECK(feed_all(s, {"abcd\n"}) == Pieces{{"abcd", LineEnd::newline}});  // exactly the bound: whole
    CHECK(feed_all(s, {"abcdefghij\n"}) ==
          Pieces{{"abcd", LineEnd::cut}, {"efgh", LineEnd::cut}, {"ij", LineEnd::newline}});
    // Arriving a byte at a time changes nothing.
    std::vector<std::string> bytes;
    for (char c : std::string("abcdefghij\n")) bytes.emplace_back(1, c);
    CHECK(feed_all(s, bytes) == Pieces{{"abcd", LineEnd::cut}, {"efgh", LineEnd::cut}, {"ij", LineEnd::newline}});
    // Without a newline the pending part stays bounded.
    CHECK(feed_all(s, {"abcdefghij"}) == Pieces{{"abcd", LineEnd::cut}, {"efgh", LineEnd::cut}});
    CHECK(s.pending_bytes() == 2);
    CHECK(feed_all(s, {}, true) == Pieces{{"ij", LineEnd::partial}});
    CHECK(LineSplitter::default_max_line == 16 * 1024);
}

TEST_CASE("a cut never splits a UTF-8 character; other bytes pass unchanged") {
    LineSplitter s(4);
    // "ab" + "é" (2 bytes) + "cd": the cut at 4 would split nothing here...
    CHECK(feed_all(s, {"ab\xC3\xA9" "cd\n"}) == Pieces{{"ab\xC3\xA9", LineEnd::cut}, {"cd", LineEnd::newline}});
    // ...but "abc" + "é": byte 4 is inside the character, so the cut moves before it.
    CHECK(feed_all(s, {"abc\xC3\xA9" "d\n"}) == Pieces{{"abc", LineEnd::cut}, {"\xC3\xA9" "d", LineEnd::newline}});
    // A 4-byte character at the very start cannot move: cut at the bound.
    CHECK(cut_point("\xF0\x9F\x98\x80x", 4) == 4);
    CHECK(cut_point("a\xF0\x9F\x98\x80", 4) == 1);
    // Not UTF-8 (continuation bytes with no lead): cut at the bound, bytes kept.
    CHECK(feed_all(s, {"\x80\x80\x80\x80\x80\xFF\n"}) ==
          Pieces{{"\x80\x80\x80\x80", LineEnd::cut}, {"\x80\xFF", LineEnd::newline}});
}

TEST_CASE("markers") {
    CHECK(marker_for(LineEnd::newline).empty());
    CHECK(marker_for(LineEnd::cut) == " [foster: line continues]");
    CHECK(marker_for(LineEnd::partial) == " [foster: no newline]");
}

TEST_CASE("timestamps: UTC with milliseconds, and seconds since boot") {
    CHECK(format_iso_ms(0) == "1970-01-01T00:00:00.000Z");
    CHECK(format_iso_ms(1'796'588'102'123) == "2026-12-06T20:15:02.123Z");
    CHECK(format_iso_ms(-1) == "1969-12-31T23:59:59.999Z");
    CHECK(format_mono_ms(0) == "0.000");
    CHECK(format_mono_ms(1'234'567'089) == "1234567.089");
    Stamper none(TimestampStyle::none);
    CHECK(none.stamp(LineTime{1, 2}).empty());
    Stamper iso(TimestampStyle::iso);
    CHECK(iso.stamp(LineTime{1'796'588'102'123, 5}) == "2026-12-06T20:15:02.123Z ");
    CHECK(iso.stamp(LineTime{1'796'588'102'124, 5}) == "2026-12-06T20:15:02.124Z ");
    Stamper mono(TimestampStyle::mono);
    CHECK(mono.stamp(LineTime{1, 12'345}) == "12.345 ");
    const LineTime a = LineTime::now(), b = LineTime::now();
    CHECK(a.real_ms <= b.real_ms);
    CHECK(a.boot_ms <= b.boot_ms);
}
