#include <doctest/doctest.h>

#include "autoreap.hpp"

#include <algorithm>
#include <chrono>

using foster::kernel_release_at_least;

TEST_CASE("kernel releases at or after 6.15 let the kernel reap") {
    CHECK(kernel_release_at_least("6.15.0", 6, 15));
    CHECK(kernel_release_at_least("6.15", 6, 15));
    CHECK(kernel_release_at_least("6.18.44-fc-v657", 6, 15));
    CHECK(kernel_release_at_least("7.0.0-rc1", 6, 15));
    CHECK(kernel_release_at_least("6.100.1", 6, 15));
}

TEST_CASE("older kernel releases keep foster's waitid loop") {
    CHECK_FALSE(kernel_release_at_least("6.14.9", 6, 15));
    CHECK_FALSE(kernel_release_at_least("6.1.0-28-amd64", 6, 15));  // Debian 12
    CHECK_FALSE(kernel_release_at_least("5.19.0", 6, 15));
    CHECK_FALSE(kernel_release_at_least("6.2.0", 6, 15));  // 2 < 15, not "2" > "15" as text
}

TEST_CASE("a release that does not parse keeps the waitid loop") {
    CHECK_FALSE(kernel_release_at_least("", 6, 15));
    CHECK_FALSE(kernel_release_at_least("six.fifteen", 6, 15));
    CHECK_FALSE(kernel_release_at_least("6", 6, 15));
    CHECK_FALSE(kernel_release_at_least("6.x", 6, 15));
}

TEST_CASE("FOSTER_AUTOREAP=0 turns autoreap off whatever the kernel") {
    CHECK_FALSE(foster::autoreap_available("0"));
}

using foster::OrphanStorms;
using namespace std::chrono_literals;

TEST_CASE("orphans exiting now and then never begin a storm") {
    OrphanStorms storms;
    OrphanStorms::Clock::time_point t{};
    for (int i = 0; i < 1000; ++i) {
        t += 36ms;  // 28 wake-ups a second: below the 32 of a storm
        CHECK_FALSE(storms.storm_begins(t));
    }
}

TEST_CASE("the eighth wake-up for orphans within 250 ms begins a storm of 2 s") {
    OrphanStorms storms;
    OrphanStorms::Clock::time_point t{};
    for (int i = 1; i < OrphanStorms::wake_ups; ++i) {
        CHECK_FALSE(storms.storm_begins(t));
        t += 35ms;
    }
    CHECK(storms.storm_begins(t));
    CHECK(storms.hold() == 2000ms);
}

TEST_CASE("wake-ups spread over more than 250 ms start counting over") {
    OrphanStorms storms;
    OrphanStorms::Clock::time_point t{};
    for (int i = 1; i < OrphanStorms::wake_ups; ++i) CHECK_FALSE(storms.storm_begins(t));
    t += 251ms;
    CHECK_FALSE(storms.storm_begins(t));  // the 8th, but the first of a new window
}

namespace {
OrphanStorms::Clock::time_point storm(OrphanStorms& storms, OrphanStorms::Clock::time_point t) {
    for (int i = 1; i < OrphanStorms::wake_ups; ++i) CHECK_FALSE(storms.storm_begins(t));
    CHECK(storms.storm_begins(t));
    return t;
}
}  // namespace

TEST_CASE("a storm still going when the hold ends makes the hold four times as long, up to 64 s") {
    OrphanStorms storms;
    auto t = storm(storms, OrphanStorms::Clock::time_point{} + 1h);
    std::chrono::milliseconds expected = 2000ms;
    for (int round = 0; round < 8; ++round) {
        CHECK(storms.hold() == expected);
        t += storms.hold();
        storms.hold_ended(t);
        t = storm(storms, t + 50ms);
        expected = std::min(expected * 4, std::chrono::milliseconds(64000));
    }
    CHECK(storms.hold() == 64000ms);
}

TEST_CASE("a storm long after the last hold gets the first hold again") {
    OrphanStorms storms;
    auto t = storm(storms, OrphanStorms::Clock::time_point{} + 1h);
    t += storms.hold();
    storms.hold_ended(t);
    t = storm(storms, t + 100ms);
    CHECK(storms.hold() == 8000ms);
    t += storms.hold();
    storms.hold_ended(t);
    storm(storms, t + 5s);
    CHECK(storms.hold() == 2000ms);
}
