#include <doctest/doctest.h>

#include <csignal>

#include "signal_names.hpp"

using foster::parse_signal;

TEST_CASE("signals by name, with or without SIG, any case, or by number") {
    CHECK(parse_signal("TERM") == SIGTERM);
    CHECK(parse_signal("SIGTERM") == SIGTERM);
    CHECK(parse_signal("sigusr1") == SIGUSR1);
    CHECK(parse_signal("15") == SIGTERM);
    CHECK(parse_signal("WINCH") == SIGWINCH);
    CHECK(parse_signal("RTMIN+2") == SIGRTMIN + 2);
    CHECK(parse_signal("SIGRTMAX") == SIGRTMAX);
}

TEST_CASE("zero only where dropping is meant") {
    CHECK_FALSE(parse_signal("0"));
    CHECK(parse_signal("0", true) == 0);
}

TEST_CASE("what is not a signal") {
    CHECK_FALSE(parse_signal(""));
    CHECK_FALSE(parse_signal("SIG"));
    CHECK_FALSE(parse_signal("TERMINATE"));
    CHECK_FALSE(parse_signal("65"));
    CHECK_FALSE(parse_signal("-1"));
    CHECK_FALSE(parse_signal("RTMIN+99"));
}

TEST_CASE("names for messages") {
    CHECK(foster::signal_name(SIGTERM) == "SIGTERM");
    CHECK(foster::signal_name(SIGABRT) == "SIGABRT");
    CHECK(foster::signal_name(SIGRTMIN + 1) == "SIGRTMIN+1");
}
