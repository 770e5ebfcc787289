// Service keys of issue 14 beyond the environment: limits, nice, oom_score_adjust,
// no_new_privileges, reload_signal, stop_command.
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <csignal>

#include <string>

#include "config.hpp"
#include "limits.hpp"

using foster::LimitUnit;
using foster::parse_limit_text;
using foster::ResourceLimit;

namespace {

std::string load_errors(const std::string& text) {
    auto result = foster::parse_config(text, "f.toml");
    std::string lines;
    for (const auto& e : result.errors) lines += e.to_string() + "\n";
    return lines;
}

foster::ProcessSettings settings_of(const std::string& service_lines) {
    auto result = foster::parse_config("[services.s]\ncommand = \"x\"\n" + service_lines, "f.toml");
    std::string errors;
    for (const auto& e : result.errors) errors += e.to_string() + "\n";
    INFO(errors);
    REQUIRE(result.config);
    return *result.config->services[0].process;
}

}  // namespace

TEST_CASE("limit values by unit") {
    CHECK(parse_limit_text("unlimited", LimitUnit::count) == RLIM_INFINITY);
    CHECK(parse_limit_text("infinity", LimitUnit::bytes) == RLIM_INFINITY);
    CHECK(parse_limit_text("4096", LimitUnit::count) == 4096u);
    CHECK(parse_limit_text("64MiB", LimitUnit::bytes) == 64u << 20);
    CHECK(parse_limit_text("64M", LimitUnit::bytes) == 64u << 20);
    CHECK(parse_limit_text("8k", LimitUnit::bytes) == 8u << 10);
    CHECK(parse_limit_text("2GB", LimitUnit::bytes) == 2ull << 30);
    CHECK(parse_limit_text("1T", LimitUnit::bytes) == 1ull << 40);
    CHECK(parse_limit_text("123", LimitUnit::bytes) == 123u);
    CHECK(parse_limit_text("1h", LimitUnit::seconds) == 3600u);
    CHECK(parse_limit_text("1500ms", LimitUnit::seconds) == 2u);
    CHECK(parse_limit_text("90", LimitUnit::seconds) == 90u);
    for (const char* bad : {"", "-1", "64X", "MiB", "64MiBs", "1.5G", "99999999999999999999", "20000000T", "lots"})
        CHECK_MESSAGE(!parse_limit_text(bad, LimitUnit::bytes), bad);
    CHECK(!parse_limit_text("64MiB", LimitUnit::count));
    CHECK(!parse_limit_text("1h", LimitUnit::count));
}

TEST_CASE("limit names are systemd's, in lower case") {
    CHECK(foster::limit_resource("nofile") == RLIMIT_NOFILE);
    CHECK(foster::limit_resource("memlock") == RLIMIT_MEMLOCK);
    CHECK(!foster::limit_resource("NOFILE"));
    CHECK(!foster::limit_resource("files"));
    CHECK(foster::limit_constant_name(RLIMIT_NOFILE) == "RLIMIT_NOFILE");
    CHECK(foster::limit_unit(RLIMIT_STACK) == LimitUnit::bytes);
}

TEST_CASE("config: limits, nice, oom_score_adjust, no_new_privileges") {
    const auto p = settings_of(
        "limits = { nofile = 65536, nproc = 4096, core = \"unlimited\", memlock = \"64MiB\", "
        "stack = { soft = \"8MiB\", hard = \"unlimited\" }, cpu = \"1h\" }\n"
        "nice = 5\noom_score_adjust = -500\nno_new_privileges = true\n");
    const std::vector<ResourceLimit> expected{
        {RLIMIT_NOFILE, 65536, 65536},           {RLIMIT_NPROC, 4096, 4096},
        {RLIMIT_CORE, RLIM_INFINITY, RLIM_INFINITY}, {RLIMIT_MEMLOCK, 64u << 20, 64u << 20},
        {RLIMIT_STACK, 8u << 20, RLIM_INFINITY},  {RLIMIT_CPU, 3600, 3600}};
    CHECK(p.limits == expected);
    CHECK(p.nice == 5);
    CHECK(p.oom_score_adjust == -500);
    CHECK(p.no_new_privileges);
    const auto defaults = settings_of("");
    CHECK(defaults == foster::ProcessSettings{});
}

TEST_CASE("config: bad limits and settings are errors at the value") {
    CHECK(load_errors("[services.s]\ncommand = \"x\"\n"
                      "limits = { files = 10, nofile = -1, memlock = \"64 MiB\", nproc = 1.5, "
                      "stack = { soft = 10, hard = 5 }, core = { soft = 1 }, cpu = { soft = 1, hard = 2, max = 3 } }\n") ==
          "f.toml:3:12: service 's': unknown limit 'files' (known: as, core, cpu, data, fsize, locks, memlock, "
          "msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack)\n"
          "f.toml:3:33: service 's': 'limits.nofile' must not be negative, not -1\n"
          "f.toml:3:47: service 's': 'limits.memlock' must be a number of bytes, like 65536 or \"64MiB\" or "
          "\"unlimited\", not \"64 MiB\"\n"
          "f.toml:3:65: service 's': 'limits.nproc' must be a number, like 4096, \"unlimited\" or "
          "{ soft = .., hard = .. }, not a float\n"
          "f.toml:3:78: service 's': 'limits.stack': the soft limit must not be above the hard limit\n"
          "f.toml:3:110: service 's': 'limits.core' needs both soft and hard\n"
          "f.toml:3:152: service 's': unknown key 'limits.cpu.max' (only soft and hard)\n");
    CHECK(load_errors("[services.s]\ncommand = \"x\"\nlimits = 5\nnice = 20\noom_score_adjust = -1001\n"
                      "no_new_privileges = \"yes\"\n") ==
          "f.toml:3:10: service 's': 'limits' must be a table, like { nofile = 65536 }, not an integer\n"
          "f.toml:4:8: service 's': 'nice' must be at most 19, not 20\n"
          "f.toml:5:20: service 's': 'oom_score_adjust' must be at least -1000, not -1001\n"
          "f.toml:6:21: service 's': 'no_new_privileges' must be true or false, not a string\n");
}

TEST_CASE("config: reload_signal") {
    auto result = foster::parse_config("[services.s]\ncommand = \"x\"\nreload_signal = \"HUP\"\n"
                                       "[services.t]\ncommand = \"x\"\n", "f.toml");
    REQUIRE(result.config);
    CHECK(result.config->services[0].reload_signal == SIGHUP);
    CHECK(!result.config->services[1].reload_signal);
    CHECK(load_errors("[services.s]\ncommand = \"x\"\nreload_signal = \"RELOAD\"\n") ==
          "f.toml:3:17: service 's': 'reload_signal': unknown signal 'RELOAD'\n");
}

TEST_CASE("config: stop_command") {
    auto result = foster::parse_config("[services.s]\ncommand = \"x\"\nstop_command = [\"nginx\", \"-s\", \"quit\"]\n"
                                       "[services.t]\ncommand = \"x\"\nstop_command = \"kill -USR1 $MAINPID\"\n"
                                       "[services.u]\ncommand = \"x\"\n",
                                       "f.toml");
    REQUIRE(result.config);
    CHECK(result.config->services[0].hooks->stop_command == std::vector<std::string>{"nginx", "-s", "quit"});
    CHECK(result.config->services[1].hooks->stop_command ==
          std::vector<std::string>{"/bin/sh", "-c", "kill -USR1 $MAINPID"});
    CHECK(result.config->services[2].hooks->stop_command.empty());
    CHECK(load_errors("[services.s]\ncommand = \"x\"\nstop_command = []\n") ==
          "f.toml:3:16: service 's': 'stop_command' must not be empty\n");
}

TEST_CASE("config: pre_start and hook_timeout") {
    auto result = foster::parse_config("[services.s]\ncommand = \"x\"\npre_start = [\"/app/migrate\", \"--check\"]\n"
                                       "hook_timeout = \"5s\"\n[services.t]\ncommand = \"x\"\n",
                                       "f.toml");
    REQUIRE(result.config);
    CHECK(result.config->services[0].hooks->pre_start == std::vector<std::string>{"/app/migrate", "--check"});
    CHECK(result.config->services[0].hooks->hook_timeout == foster::Millis{5000});
    CHECK(result.config->services[1].hooks->pre_start.empty());
    CHECK(result.config->services[1].hooks->hook_timeout == foster::Millis{30'000});
    CHECK(load_errors("[services.s]\ncommand = \"x\"\npre_start = 3\nhook_timeout = \"0s\"\n") ==
          "f.toml:3:13: service 's': 'pre_start' must be an array of strings or a string, not an integer\n"
          "f.toml:4:16: service 's': 'hook_timeout' must be more than 0\n");
}

TEST_CASE("config: post_stop") {
    auto result = foster::parse_config("[services.s]\ncommand = \"x\"\npost_stop = \"rm -f /run/app.lock\"\n", "f.toml");
    REQUIRE(result.config);
    CHECK(result.config->services[0].hooks->post_stop == std::vector<std::string>{"/bin/sh", "-c", "rm -f /run/app.lock"});
    CHECK(load_errors("[services.s]\ncommand = \"x\"\npost_stop = [\"\"]\n") ==
          "f.toml:3:14: service 's': 'post_stop': the program name must not be empty\n");
}

TEST_CASE("config: output rotation and timestamps") {
    auto result = foster::parse_config("[foster]\ntimestamps = \"iso\"\n"
                                       "[services.a]\ncommand = \"x\"\nstdout = \"/l/a.log\"\nstdout_max_size = \"10MiB\"\n"
                                       "stderr = \"/l/a.err\"\nstderr_backups = 2\nstderr_max_size = 4096\n"
                                       "[services.b]\ncommand = \"x\"\ntimestamps = \"mono\"\nstdout = \"/l/b.log\"\n",
                                       "f.toml");
    REQUIRE(result.config);
    const auto& a = result.config->services[0];
    const auto& b = result.config->services[1];
    CHECK(a.stdout_target->max_size == std::uint64_t{10} << 20);
    CHECK(a.stdout_target->backups == 5);
    CHECK(a.stderr_target->max_size == 4096u);
    CHECK(a.stderr_target->backups == 2);
    CHECK(a.timestamps == foster::TimestampStyle::iso);  // [foster]'s
    CHECK_FALSE(b.stdout_target->max_size);
    CHECK(b.timestamps == foster::TimestampStyle::mono);
    // [foster] after the services still gives them its default.
    auto later = foster::parse_config("[services.a]\ncommand = \"x\"\n[foster]\ntimestamps = \"mono\"\n", "f.toml");
    REQUIRE(later.config);
    CHECK(later.config->services[0].timestamps == foster::TimestampStyle::mono);
}

TEST_CASE("config: bad output rotation and timestamps are errors at the value") {
    CHECK(load_errors("[foster]\ntimestamps = \"utc\"\n"
                      "[services.s]\ncommand = \"x\"\nstdout = \"prefix\"\nstdout_max_size = \"1MiB\"\n"
                      "stderr = \"/l/e\"\nstderr_max_size = \"10M\"\nstderr_backups = -1\ntimestamps = true\n") ==
          "f.toml:2:14: [foster]: 'timestamps' must be \"none\", \"iso\" or \"mono\", not \"utc\"\n"
          "f.toml:6:19: service 's': 'stdout_max_size' and 'stdout_backups' apply only when 'stdout' is a file path\n"
          "f.toml:8:19: service 's': 'stderr_max_size' must be a size of more than 0 bytes with unit B, KiB, MiB, "
          "GiB (1024s) or KB, MB, GB (1000s), like \"10MiB\", not \"10M\"\n"
          "f.toml:9:18: service 's': 'stderr_backups' must be at least 0, not -1\n"
          "f.toml:10:14: service 's': 'timestamps' must be a string, not a boolean\n");
    CHECK(load_errors("[services.s]\ncommand = \"x\"\nstdout = \"/l/o\"\nstdout_max_size = 0\nstdout_backups = 1001\n") ==
          "f.toml:4:19: service 's': 'stdout_max_size' must be a size of more than 0 bytes with unit B, KiB, MiB, "
          "GiB (1024s) or KB, MB, GB (1000s), like \"10MiB\", not 0\n"
          "f.toml:5:18: service 's': 'stdout_backups' must be at most 1000, not 1001\n");
}
