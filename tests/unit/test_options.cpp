#include <doctest/doctest.h>

#include <csignal>

#include "options.hpp"

using foster::parse_options;

namespace {
foster::ParsedOptions parse(std::vector<std::string> args) {
    args.insert(args.begin(), "foster");
    return parse_options(args);
}
}  // namespace

TEST_CASE("PROGRAM after -- or at the first non-option") {
    auto p = parse({"--", "app", "-x"});
    REQUIRE(p.options);
    CHECK(p.options->program == std::vector<std::string>{"app", "-x"});
    p = parse({"-g", "app", "--", "-y"});
    REQUIRE(p.options);
    CHECK(p.options->signal_group);
    CHECK(p.options->program == std::vector<std::string>{"app", "--", "-y"});
}

TEST_CASE("nothing to run is a usage error") {
    CHECK_FALSE(parse({}).options);
    CHECK_FALSE(parse({"--"}).options);
    CHECK_FALSE(parse({"-g"}).options);
    CHECK(parse({"--"}).error.find("nothing to run") != std::string::npos);
}

TEST_CASE("rewrites, success exits, parent death signal, grace") {
    auto p = parse({"-r", "USR1:USR2", "--rewrite=TERM:0", "-e", "143", "-e7", "-p", "SIGKILL", "--grace", "500ms",
                    "--", "app"});
    REQUIRE(p.options);
    const auto& o = *p.options;
    CHECK(o.signal_rewrite[SIGUSR1] == SIGUSR2);
    CHECK(o.signal_rewrite[SIGTERM] == 0);
    CHECK(o.signal_rewrite[SIGINT] == SIGINT);
    CHECK(o.success_exits == std::vector<int>{143, 7});
    CHECK(o.parent_death_signal == SIGKILL);
    CHECK(o.grace == foster::Millis{500});
}

TEST_CASE("bad values say what is wrong") {
    CHECK(parse({"-r", "USR1", "--", "a"}).error.find("FROM:TO") != std::string::npos);
    CHECK(parse({"-r", "NOPE:TERM", "--", "a"}).error.find("NOPE") != std::string::npos);
    CHECK(parse({"-e", "256", "--", "a"}).error.find("256") != std::string::npos);
    CHECK(parse({"--grace", "soon", "--", "a"}).error.find("soon") != std::string::npos);
    CHECK(parse({"-x", "--", "a"}).error.find("'-x'") != std::string::npos);
    CHECK(parse({"--bogus", "--", "a"}).error.find("--bogus") != std::string::npos);
    CHECK(parse({"-e"}).error.find("needs a value") != std::string::npos);
    CHECK(parse({"-g=1", "a"}).options.has_value() == false);
}

TEST_CASE("clustered short options and verbosity") {
    auto p = parse({"-gv", "--", "a"});
    REQUIRE(p.options);
    CHECK(p.options->signal_group);
    CHECK(p.options->verbosity == foster::log::Level::verbose);
    p = parse({"-q", "--", "a"});
    REQUIRE(p.options);
    CHECK(p.options->verbosity == foster::log::Level::quiet);
}

TEST_CASE("config modes") {
    auto p = parse({"-c", "f.toml"});
    REQUIRE(p.options);
    CHECK(p.options->config_path == "f.toml");
    CHECK(p.options->program.empty());
    CHECK(parse({"--check", "-c", "f.toml"}).options);
    CHECK_FALSE(parse({"--check", "--", "a"}).options);
    CHECK(parse({"-h"}).options->show_help);
    CHECK(parse({"-V"}).options->show_version);
}

TEST_CASE("a refused argument is shown on one short line") {
    // Control bytes as \xNN (no newline, no escape sequence reaches the
    // terminal), and a long value cut after 64 bytes.
    auto p = parse({"--grace", "x\n\x1b[31mred"});
    REQUIRE_FALSE(p.options);
    CHECK(p.error == "--grace wants a duration such as 3s or 500ms, got 'x\\x0a\\x1b[31mred'");
    p = parse({"--" + std::string(5000, 'y')});
    REQUIRE_FALSE(p.options);
    CHECK(p.error == "unknown option '--" + std::string(62, 'y') + "...'");
    p = parse({"-e", "300"});
    CHECK(p.error == "-e wants an exit code from 0 to 255, got '300'");  // ordinary values unchanged
}
