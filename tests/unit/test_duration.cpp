#include <doctest/doctest.h>

#include "duration.hpp"

using foster::Millis;
using foster::parse_duration;

TEST_CASE("durations with units") {
    CHECK(parse_duration("250ms") == Millis{250});
    CHECK(parse_duration("10s") == Millis{10'000});
    CHECK(parse_duration("5m") == Millis{300'000});
    CHECK(parse_duration("1h") == Millis{3'600'000});
    CHECK(parse_duration("1.5s") == Millis{1'500});
    CHECK(parse_duration("0s") == Millis{0});
}

TEST_CASE("a plain number is seconds") {
    CHECK(parse_duration("3") == Millis{3'000});
    CHECK(foster::duration_from_seconds(2.5) == Millis{2'500});
    CHECK_FALSE(foster::duration_from_seconds(-1));
}

TEST_CASE("seconds as a float are rounded to the nearest millisecond, halves up") {
    CHECK(foster::duration_from_seconds(0.0004) == Millis{0});
    CHECK(foster::duration_from_seconds(0.0006) == Millis{1});
    CHECK(foster::duration_from_seconds(0.0025) == Millis{3});
    CHECK(foster::duration_from_seconds(1.2344) == Millis{1'234});
    CHECK(foster::duration_from_seconds(0.49999999999999994) == Millis{500});
    // The longest duration is 2^33 ms: what rounds to it is accepted, what rounds past it is not.
    CHECK(foster::duration_from_seconds(8'589'934.5924) == Millis{8'589'934'592});
    CHECK_FALSE(foster::duration_from_seconds(8'589'934.5926));
    CHECK_FALSE(foster::duration_from_seconds(1e300));
}

TEST_CASE("what is not a duration") {
    CHECK_FALSE(parse_duration(""));
    CHECK_FALSE(parse_duration("s"));
    CHECK_FALSE(parse_duration("-1s"));
    CHECK_FALSE(parse_duration("10 s"));
    CHECK_FALSE(parse_duration("10sec"));
    CHECK_FALSE(parse_duration("1."));
    CHECK_FALSE(parse_duration("99999999999999999999s"));
    CHECK_FALSE(parse_duration("9999999h"));
}

TEST_CASE("formatting picks the largest exact unit") {
    CHECK(foster::format_duration(Millis{400}) == "400ms");
    CHECK(foster::format_duration(Millis{3000}) == "3s");
    CHECK(foster::format_duration(Millis{120'000}) == "2m");
    CHECK(foster::format_duration(Millis{7'200'000}) == "2h");
    CHECK(foster::format_duration(Millis{0}) == "0s");
}
