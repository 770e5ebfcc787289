#include <doctest/doctest.h>

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "accounts.hpp"
#include "config.hpp"

using foster::Config;
using foster::Credentials;
using foster::HealthCheck;
using foster::LoadOptions;
using foster::Millis;
using foster::OnFatal;
using foster::OutputTarget;
using foster::RestartPolicy;
using foster::ServiceConfig;
using foster::ServiceType;

namespace fs = std::filesystem;

namespace {

const fs::path data_dir{FOSTER_TEST_DATA};

// The accounts the cases below name (and tests/data/good/every_key.toml),
// looked up in this machine's user and group databases rather than taken
// as Debian's numbers (nobody 65534, nogroup 65534, daemon 1). A case whose
// account is missing says so and checks nothing.
struct Ids {
    uid_t uid;
    gid_t gid;  // the user's primary group, or the group's id
};

std::optional<Ids> user_ids(const char* name) {
    const passwd* pw = ::getpwnam(name);
    if (pw == nullptr) return std::nullopt;
    return Ids{pw->pw_uid, pw->pw_gid};
}

std::optional<gid_t> group_id(const char* name) {
    const group* gr = ::getgrnam(name);
    if (gr == nullptr) return std::nullopt;
    return gr->gr_gid;
}

// What setgroups(2) gets for `user` with primary group `gid`, straight from
// getgrouplist(3).
std::vector<gid_t> groups_of(const char* user, gid_t gid) {
    int count = 0;
    ::getgrouplist(user, gid, nullptr, &count);
    std::vector<gid_t> groups(static_cast<std::size_t>(count));
    ::getgrouplist(user, gid, groups.data(), &count);
    groups.resize(static_cast<std::size_t>(count));
    return groups;
}

bool accounts_here(std::initializer_list<const char*> users, std::initializer_list<const char*> groups) {
    for (const char* u : users)
        if (!user_ids(u)) {
            MESSAGE("no user '" << u << "' on this machine: not checked");
            return false;
        }
    for (const char* g : groups)
        if (!group_id(g)) {
            MESSAGE("no group '" << g << "' on this machine: not checked");
            return false;
        }
    return true;
}

std::vector<fs::path> toml_files_in(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().extension() == ".toml") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// A bad config's header: "# expect: LINE:COLUMN: message" per expected
// error, in order, and "# options: has_program" for the "both" mode.
struct Expectations {
    std::string errors;  // one "LINE:COLUMN: message" per line
    std::size_t count = 0;
    LoadOptions options;
};

Expectations read_expectations(const fs::path& path) {
    Expectations expected;
    std::istringstream in(read_text(path));
    std::string line;
    while (std::getline(in, line) && line.rfind('#', 0) == 0) {
        if (line.rfind("# expect: ", 0) == 0) {
            expected.errors += line.substr(10) + "\n";
            ++expected.count;
        } else if (line == "# options: has_program") {
            expected.options.has_program = true;
        }
    }
    return expected;
}

// The errors as "LINE:COLUMN: message" lines, each checked to name `file`.
std::string error_lines(const foster::LoadResult& result, const std::string& file) {
    std::string lines;
    for (const auto& error : result.errors) {
        CHECK(error.file == file);
        lines += std::to_string(error.line) + ":" + std::to_string(error.column) + ": " +
                 error.message + "\n";
    }
    return lines;
}

// Parses a good config from tests/data/good; fails the test on any error.
Config load_good(const std::string& name, const LoadOptions& options = {}) {
    const std::string path = (data_dir / "good" / name).string();
    auto result = foster::load_config(path, options);
    std::string errors;
    for (const auto& e : result.errors) errors += e.to_string() + "\n";
    INFO(errors);
    REQUIRE(result.config.has_value());
    REQUIRE(result.errors.empty());
    return *result.config;
}

Config parse_good(const std::string& text) {
    auto result = foster::parse_config(text, "inline.toml");
    std::string errors;
    for (const auto& e : result.errors) errors += e.to_string() + "\n";
    INFO(errors);
    REQUIRE(result.config.has_value());
    return *result.config;
}

std::vector<std::string> errors_of(const std::string& text, const LoadOptions& options = {}) {
    const auto result = foster::parse_config(text, "inline.toml", options);
    CHECK_FALSE(result.config.has_value());
    std::vector<std::string> messages;
    for (const auto& e : result.errors) messages.push_back(e.to_string());
    return messages;
}

const ServiceConfig& service(const Config& config, const std::string& name) {
    const auto found = std::find_if(config.services.begin(), config.services.end(),
                                    [&](const ServiceConfig& s) { return s.name == name; });
    REQUIRE(found != config.services.end());
    return *found;
}

std::vector<std::string> start_names(const Config& config) {
    std::vector<std::string> names;
    for (const std::size_t i : config.start_order) names.push_back(config.services[i].name);
    return names;
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("every bad config gives exactly the errors written at its top") {
    const auto files = toml_files_in(data_dir / "bad");
    REQUIRE(files.size() >= 30);
    for (const auto& file : files) {
        CAPTURE(file);
        const Expectations expected = read_expectations(file);
        CHECK_MESSAGE(expected.count > 0, "no '# expect:' lines");
        const auto result = foster::load_config(file.string(), expected.options);
        CHECK_FALSE(result.config.has_value());
        CHECK(error_lines(result, file.string()) == expected.errors);
    }
}

TEST_CASE("every good config loads without errors") {
    const auto files = toml_files_in(data_dir / "good");
    REQUIRE(files.size() >= 4);
    for (const auto& file : files) {
        CAPTURE(file);
        const auto result = foster::load_config(file.string());
        std::string errors;
        for (const auto& e : result.errors) errors += e.to_string() + "\n";
        CHECK(errors == "");
        CHECK(result.config.has_value());
    }
}

TEST_CASE("a service with only a command gets every default") {
    const Config config = load_good("defaults.toml");
    CHECK(config.shutdown_timeout == Millis{30'000});
    CHECK_FALSE(config.control_socket.has_value());
    REQUIRE(config.services.size() == 1);
    const ServiceConfig& s = config.services[0];
    CHECK(s.name == "only");
    CHECK(s.argv == Strings{"/bin/true"});
    CHECK(s.type == ServiceType::simple);
    CHECK(s.depends_on.empty());
    CHECK(s.restart == RestartPolicy::on_failure);
    CHECK(s.restart_delay == Millis{100});
    CHECK(s.restart_delay_max == Millis{30'000});
    CHECK(s.min_uptime == Millis{1'000});
    CHECK(s.start_limit_burst == 5);
    CHECK(s.start_limit_interval == Millis{10'000});
    CHECK(s.success_exit_codes == std::vector<int>{0});
    CHECK(s.stop_signal == SIGTERM);
    CHECK(s.stop_timeout == Millis{10'000});
    CHECK(s.autostart);
    CHECK_FALSE(s.main);
    CHECK(s.on_fatal == OnFatal::ignore);
    CHECK(s.environment.empty());
    CHECK_FALSE(s.working_directory.has_value());
    CHECK_FALSE(s.credentials.has_value());
    CHECK_FALSE(s.umask.has_value());
    CHECK(*s.stdout_target == OutputTarget{});
    CHECK(*s.stderr_target == OutputTarget{});
    CHECK_FALSE(s.healthcheck.has_value());
    ServiceConfig expected;
    expected.name = "only";
    expected.argv = {"/bin/true"};
    CHECK(s == expected);
    CHECK(config.start_order == std::vector<std::size_t>{0});
}

TEST_CASE("every key set") {
    const Config config = load_good("every_key.toml");
    CHECK(config.shutdown_timeout == Millis{45'000});
    CHECK(config.control_socket == "/run/foster-test.sock");
    REQUIRE(config.services.size() == 2);
    const ServiceConfig& s = service(config, "web");

    ServiceConfig expected;
    expected.name = "web";
    expected.argv = {"/app/server", "--port", "8080"};
    expected.type = ServiceType::notify;
    expected.depends_on = {"db"};
    expected.restart = RestartPolicy::always;
    expected.restart_delay = Millis{250};
    expected.restart_delay_max = Millis{60'000};
    expected.min_uptime = Millis{5'000};
    expected.start_limit_burst = 3;
    expected.start_limit_interval = Millis{3'600'000};
    expected.success_exit_codes = {0, 143, 2};
    expected.stop_signal = SIGINT;
    expected.stop_timeout = Millis{1'500};
    expected.autostart = false;
    expected.main = true;
    expected.on_fatal = OnFatal::shutdown;
    expected.environment = {{"PORT", "8080"}, {"MODE", "prod"}, {"A_LAST", "x=y"}};
    expected.working_directory = "/app";
    if (accounts_here({"nobody"}, {"nogroup"})) {
        const gid_t nogroup = *group_id("nogroup");
        expected.credentials = Credentials{user_ids("nobody")->uid, nogroup, groups_of("nobody", nogroup), "nobody"};
    } else {
        expected.credentials = s.credentials;
    }
    expected.umask = 027;
    expected.stdout_target = OutputTarget{OutputTarget::Kind::file, "/var/log/web.log", std::nullopt, 5};
    expected.stderr_target = OutputTarget{OutputTarget::Kind::same_as_stdout, {}, std::nullopt, 5};
    expected.healthcheck = HealthCheck{{"/app/health", "--quick"}, Millis{10'000}, Millis{2'000}, 4,
                                       Millis{30'000}};
    // Field by field first, so a failure says which one.
    CHECK(s.argv == expected.argv);
    CHECK(s.type == expected.type);
    CHECK(s.depends_on == expected.depends_on);
    CHECK(s.restart == expected.restart);
    CHECK(s.restart_delay == expected.restart_delay);
    CHECK(s.restart_delay_max == expected.restart_delay_max);
    CHECK(s.min_uptime == expected.min_uptime);
    CHECK(s.start_limit_burst == expected.start_limit_burst);
    CHECK(s.start_limit_interval == expected.start_limit_interval);
    CHECK(s.success_exit_codes == expected.success_exit_codes);
    CHECK(s.stop_signal == expected.stop_signal);
    CHECK(s.stop_timeout == expected.stop_timeout);
    CHECK(s.autostart == expected.autostart);
    CHECK(s.main == expected.main);
    CHECK(s.on_fatal == expected.on_fatal);
    CHECK(s.environment == expected.environment);
    CHECK(s.working_directory == expected.working_directory);
    CHECK(s.credentials == expected.credentials);
    CHECK(s.umask == expected.umask);
    CHECK(s.stdout_target == expected.stdout_target);
    CHECK(s.stderr_target == expected.stderr_target);
    CHECK(s.healthcheck == expected.healthcheck);
    CHECK(s == expected);

    const ServiceConfig& db = service(config, "db");
    CHECK(db.stdout_target->kind == OutputTarget::Kind::prefix);
    CHECK(db.stderr_target->kind == OutputTarget::Kind::null);
    CHECK(db.stop_signal == SIGUSR2);
    CHECK(db.type == ServiceType::oneshot);
    CHECK(db.restart == RestartPolicy::no);
    CHECK(start_names(config) == Strings{"db", "web"});
}

TEST_CASE("a string command runs through /bin/sh -c, as written") {
    const Config config = load_good("shell_command.toml");
    CHECK(service(config, "migrate").argv ==
          Strings{"/bin/sh", "-c", "/app/migrate.sh && echo \"done\""});
    CHECK(service(config, "migrate").healthcheck->argv == Strings{"/bin/sh", "-c", "test -e /tmp/ok"});
    CHECK(service(config, "array").argv == Strings{"/bin/echo", "a b", "$HOME"});
}

TEST_CASE("durations as plain numbers are seconds") {
    const Config config = load_good("numeric_durations.toml");
    CHECK(config.shutdown_timeout == Millis{5'000});
    const ServiceConfig& s = service(config, "s");
    CHECK(s.restart_delay == Millis{500});
    CHECK(s.restart_delay_max == Millis{120'000});
    CHECK(s.min_uptime == Millis{0});
    CHECK(s.stop_timeout == Millis{2'000});
    CHECK(s.start_limit_interval == Millis{1'250});
    CHECK(s.healthcheck->interval == Millis{1'000});
    CHECK(s.healthcheck->timeout == Millis{100});
    CHECK(s.healthcheck->start_period == Millis{60'000});
}

TEST_CASE("the example of foster.toml(5) loads, in dependency order") {
    const Config config = load_good("interface_example.toml");
    REQUIRE(config.services.size() == 3);
    CHECK(config.services[0].name == "db");  // sorted by name
    CHECK(config.services[1].name == "migrate");
    CHECK(config.services[2].name == "web");
    CHECK(start_names(config) == Strings{"db", "migrate", "web"});
    CHECK(service(config, "db").stop_signal == SIGINT);
    CHECK(service(config, "web").depends_on == Strings{"db", "migrate"});
    CHECK(service(config, "web").stdout_target->kind == OutputTarget::Kind::prefix);
}

TEST_CASE("start order: dependencies first, otherwise by name") {
    const Config config = parse_good(R"(
[services.z]
command = "true"
[services.a]
command = "true"
depends_on = ["m"]
[services.m]
command = "true"
[services.b]
command = "true"
)");
    CHECK(start_names(config) == Strings{"b", "m", "a", "z"});
}

TEST_CASE("a file without services is valid") {
    const Config empty = parse_good("");
    CHECK(empty.services.empty());
    const Config only_foster = parse_good("[foster]\nshutdown_timeout = \"1m\"\n");
    CHECK(only_foster.shutdown_timeout == Millis{60'000});
}

TEST_CASE("restart_delay_max follows a long restart_delay unless given") {
    const Config config = parse_good(R"(
[services.slow]
command = "true"
restart_delay = "1m"
[services.exact]
command = "true"
restart_delay = "2s"
restart_delay_max = "2s"
)");
    CHECK(service(config, "slow").restart_delay_max == Millis{60'000});
    CHECK(service(config, "exact").restart_delay_max == Millis{2'000});
}

TEST_CASE("user and group") {
    SUBCASE("a user name brings its primary group and its groups") {
        if (!accounts_here({"daemon"}, {})) return;
        const Ids daemon = *user_ids("daemon");
        const auto s = parse_good("[services.s]\ncommand = 'x'\nuser = 'daemon'\n").services[0];
        REQUIRE(s.credentials.has_value());
        CHECK(s.credentials->uid == daemon.uid);
        CHECK(s.credentials->gid == daemon.gid);
        CHECK(s.credentials->user_name == "daemon");
        CHECK(s.credentials->groups == groups_of("daemon", daemon.gid));
        CHECK(std::find(s.credentials->groups.begin(), s.credentials->groups.end(), daemon.gid) !=
              s.credentials->groups.end());
    }
    SUBCASE("root by number is the same as by name") {
        const auto by_number = parse_good("[services.s]\ncommand = 'x'\nuser = 0\n").services[0];
        const auto by_digits = parse_good("[services.s]\ncommand = 'x'\nuser = '0'\n").services[0];
        const auto by_name = parse_good("[services.s]\ncommand = 'x'\nuser = 'root'\n").services[0];
        CHECK(by_number.credentials == by_name.credentials);
        CHECK(by_digits.credentials == by_name.credentials);
        CHECK(by_name.credentials->user_name == "root");
    }
    SUBCASE("group overrides the primary group") {
        if (!accounts_here({"nobody"}, {"daemon"})) return;
        const gid_t daemon = *group_id("daemon");
        const auto s =
            parse_good("[services.s]\ncommand = 'x'\nuser = 'nobody'\ngroup = 'daemon'\n").services[0];
        CHECK(s.credentials->uid == user_ids("nobody")->uid);
        CHECK(s.credentials->gid == daemon);
        CHECK(std::find(s.credentials->groups.begin(), s.credentials->groups.end(), daemon) !=
              s.credentials->groups.end());
    }
    SUBCASE("a number without a passwd entry keeps foster's gid") {
        REQUIRE_FALSE(foster::find_user(uid_t{4242}).has_value());
        const auto s = parse_good("[services.s]\ncommand = 'x'\nuser = 4242\n").services[0];
        CHECK(s.credentials == Credentials{4242, ::getgid(), {::getgid()}, ""});
        const auto g = parse_good("[services.s]\ncommand = 'x'\nuser = '4242'\ngroup = 77\n").services[0];
        CHECK(g.credentials == Credentials{4242, 77, {77}, ""});
    }
    SUBCASE("group alone keeps foster's uid and drops other groups") {
        if (!accounts_here({}, {"nogroup"})) return;
        const gid_t nogroup = *group_id("nogroup");
        const auto s = parse_good("[services.s]\ncommand = 'x'\ngroup = 'nogroup'\n").services[0];
        CHECK(s.credentials == Credentials{::getuid(), nogroup, {nogroup}, ""});
    }
}

TEST_CASE("accounts lookups") {
    CHECK(foster::find_user("root")->uid == 0);
    CHECK_FALSE(foster::find_user("nosuch-user-xyz").has_value());
    CHECK_FALSE(foster::find_group("nosuch-group-xyz").has_value());
    if (!accounts_here({"nobody", "daemon"}, {"nogroup"})) return;
    CHECK(foster::find_user(user_ids("nobody")->uid)->name == "nobody");
    CHECK(foster::find_group("nogroup") == group_id("nogroup"));
    const gid_t daemon = user_ids("daemon")->gid;
    const auto groups = foster::supplementary_groups("daemon", daemon);
    CHECK(groups == groups_of("daemon", daemon));
    CHECK(std::find(groups.begin(), groups.end(), daemon) != groups.end());
}

TEST_CASE("reload compares services key by key") {
    const char* base = "[services.s]\ncommand = ['a']\n";
    const auto a = parse_good(base).services[0];
    CHECK(a == parse_good(base).services[0]);
    CHECK_FALSE(a == parse_good(std::string(base) + "stop_timeout = '3s'\n").services[0]);
    CHECK_FALSE(a == parse_good(std::string(base) + "environment = { A = '1' }\n").services[0]);
    CHECK_FALSE(a == parse_good(std::string(base) + "healthcheck = { command = 'x' }\n").services[0]);
    CHECK_FALSE(a == parse_good(std::string(base) + "user = 'root'\n").services[0]);
    // Writing a default explicitly is not a change.
    CHECK(a == parse_good(std::string(base) + "restart = 'on-failure'\nstop_signal = 15\n").services[0]);
}

TEST_CASE("errors are formatted FILE:LINE:COLUMN: message") {
    CHECK(foster::ConfigError{"f.toml", 3, 7, "bad"}.to_string() == "f.toml:3:7: bad");
    CHECK(foster::ConfigError{"f.toml", 0, 0, "cannot read: x"}.to_string() == "f.toml: cannot read: x");
    CHECK(errors_of("[services.a]\ncommand = 'x'\nfoo = 1\n") ==
          Strings{"inline.toml:3:1: service 'a': unknown key 'foo'"});
}

TEST_CASE("a file that cannot be read is one error naming it") {
    const auto missing = foster::load_config("/nonexistent/foster.toml");
    CHECK_FALSE(missing.config.has_value());
    REQUIRE(missing.errors.size() == 1);
    CHECK(missing.errors[0].to_string() ==
          "/nonexistent/foster.toml: cannot read: No such file or directory");

    const auto directory = foster::load_config(data_dir.string());
    REQUIRE(directory.errors.size() == 1);
    CHECK(directory.errors[0].to_string() == data_dir.string() + ": cannot read: Is a directory");
}

TEST_CASE("every problem is reported at once, in file order") {
    const auto errors = errors_of(R"([services.b]
command = []
type = "forking"
[services.a]
depends_on = ["nosuch"]
)");
    CHECK(errors == Strings{
                        "inline.toml:2:11: service 'b': 'command' must not be empty",
                        "inline.toml:3:8: service 'b': 'type' must be \"simple\", \"oneshot\" or "
                        "\"notify\", not \"forking\"",
                        "inline.toml:4:1: service 'a': missing required key 'command'",
                        "inline.toml:5:15: service 'a': depends on unknown service 'nosuch'",
                    });
}

TEST_CASE("messages quote control characters instead of printing them") {
    const auto errors = errors_of("[services.\"a\\nb\"]\ncommand = 'x'\n");
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find('\n') == std::string::npos);
    CHECK(errors[0].find("a\\x0ab") != std::string::npos);
}

TEST_CASE("main = true is refused when foster runs a PROGRAM, accepted otherwise") {
    const char* text = "[services.s]\ncommand = 'x'\nmain = true\n";
    CHECK(parse_good(text).services[0].main);
    LoadOptions both;
    both.has_program = true;
    CHECK(errors_of(text, both).size() == 1);
}

TEST_CASE("no input makes the loader throw or crash") {
    // Every good and bad file, cut short at every byte and with one byte
    // replaced by characters that matter to TOML.
    std::vector<std::string> texts;
    for (const char* dir : {"good", "bad"})
        for (const auto& file : toml_files_in(data_dir / dir)) texts.push_back(read_text(file));
    std::size_t runs = 0;
    for (const auto& text : texts) {
        for (std::size_t cut = 0; cut < text.size(); cut += 3) {
            CHECK_NOTHROW(foster::parse_config(text.substr(0, cut), "cut.toml"));
            for (const char c : {'[', '"', '=', '\0', '\xff', '{'}) {
                std::string mutated = text;
                mutated[cut] = c;
                const auto result = foster::parse_config(mutated, "mutated.toml");
                CHECK(result.config.has_value() != !result.errors.empty());
                for (const auto& error : result.errors)
                    CHECK(error.message.find_first_of("\n\r") == std::string::npos);
                ++runs;
            }
        }
    }
    CHECK(runs > 1000);

    // Deep nesting and huge numbers.
    std::string deep = "[services.s]\ncommand = " + std::string(5000, '[') + std::string(5000, ']');
    CHECK_FALSE(foster::parse_config(deep, "deep.toml").config.has_value());
    CHECK_FALSE(foster::parse_config("[services.s]\ncommand='x'\nstop_timeout = 1e308\n", "f")
                    .config.has_value());
    CHECK_FALSE(foster::parse_config("[services.s]\ncommand='x'\nstop_timeout = -9223372036854775808\n", "f")
                    .config.has_value());
    CHECK_FALSE(foster::parse_config("[services.s]\ncommand='x'\nstop_timeout = inf\n", "f")
                    .config.has_value());
}

TEST_CASE("restart_mode and overlap_timeout") {
    const auto parsed = foster::parse_config(
        "[services.web]\ncommand = 'x'\nrestart_mode = 'overlap'\noverlap_timeout = '45s'\n"
        "[services.db]\ncommand = 'y'\n",
        "inline.toml", {});
    REQUIRE(parsed.config.has_value());
    CHECK(service(*parsed.config, "web").restart_mode == foster::RestartMode::overlap);
    CHECK(service(*parsed.config, "web").overlap_timeout == Millis{45'000});
    CHECK(service(*parsed.config, "db").restart_mode == foster::RestartMode::stop_first);
    CHECK(service(*parsed.config, "db").overlap_timeout == Millis{20'000});
    CHECK(errors_of("[services.a]\ncommand = 'x'\nrestart_mode = 'rolling'\n") ==
          Strings{"inline.toml:3:16: service 'a': 'restart_mode' must be \"stop-first\" or \"overlap\", not \"rolling\""});
    CHECK(errors_of("[services.a]\ncommand = 'x'\ntype = 'oneshot'\nrestart_mode = 'overlap'\n") ==
          Strings{"inline.toml:4:16: service 'a': 'restart_mode = \"overlap\"' is not allowed for a oneshot service"});
    CHECK(errors_of("[services.a]\ncommand = 'x'\noverlap_timeout = '0s'\n").size() == 1);
}
