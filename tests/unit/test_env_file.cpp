// environment_file parsing, ${VAR} expansion, and both as config keys.
#include <doctest/doctest.h>

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "config.hpp"
#include "env_file.hpp"

using foster::EnvironmentList;
using foster::expand_variables;
using foster::parse_environment_file;

namespace {

std::optional<std::string> fake_lookup(const std::string& name) {
    static const std::map<std::string, std::string> vars{{"HOME", "/home/u"}, {"EMPTY", ""}, {"PORT", "8080"}};
    const auto found = vars.find(name);
    if (found == vars.end()) return std::nullopt;
    return found->second;
}

std::string expanded(const std::string& text) {
    auto e = expand_variables(text, fake_lookup);
    INFO(e.error.value_or(""));
    REQUIRE(!e.error);
    return e.text;
}

std::string expansion_error(const std::string& text) {
    auto e = expand_variables(text, fake_lookup);
    REQUIRE(e.error);
    return *e.error;
}

EnvironmentList parsed(const std::string& text) {
    auto r = parse_environment_file(text);
    INFO((r.error ? r.error->message : ""));
    REQUIRE(!r.error);
    return r.variables;
}

std::string parse_error(const std::string& text) {
    auto r = parse_environment_file(text);
    REQUIRE(r.error);
    return std::to_string(r.error->line) + ":" + std::to_string(r.error->column) + ": " + r.error->message;
}

// A file that exists for the duration of one test.
struct TempFile {
    std::string path;
    explicit TempFile(const std::string& contents) {
        char name[] = "/tmp/foster-env-test-XXXXXX";
        const int fd = mkstemp(name);
        REQUIRE(fd >= 0);
        ::close(fd);
        path = name;
        std::ofstream(path) << contents;
    }
    ~TempFile() { std::filesystem::remove(path); }
};

std::string load_errors(const std::string& text) {
    auto result = foster::parse_config(text, "f.toml");
    std::string lines;
    for (const auto& e : result.errors) lines += e.to_string() + "\n";
    return lines;
}

}  // namespace

TEST_CASE("${VAR}, ${VAR:-default} and $$ expand; other dollars stay") {
    CHECK(expanded("${HOME}/app") == "/home/u/app");
    CHECK(expanded("--port=${PORT}") == "--port=8080");
    CHECK(expanded("${UNSET:-fallback}") == "fallback");
    CHECK(expanded("${EMPTY:-fallback}") == "fallback");
    CHECK(expanded("${PORT:-1}") == "8080");
    CHECK(expanded("${UNSET:-}") == "");
    CHECK(expanded("${EMPTY}") == "");
    CHECK(expanded("cost $$5 and $$${HOME}") == "cost $5 and $/home/u");
    CHECK(expanded("echo $HOME $! $1 $") == "echo $HOME $! $1 $");
    CHECK(expanded("no dollars") == "no dollars");
}

TEST_CASE("bad references are errors naming the variable") {
    CHECK(expansion_error("x ${NOPE} y") == "unset variable 'NOPE' (give a default with '${NOPE:-default}')");
    CHECK(expansion_error("${HOME") == "unterminated '${' (write '$$' for a literal '$')");
    CHECK(expansion_error("${}") == "invalid variable name '' in '${}'");
    CHECK(expansion_error("${1X}") == "invalid variable name '1X' in '${1X}'");
}

TEST_CASE("environment files: systemd's EnvironmentFile= format") {
    const auto vars = parsed(
        "# a comment\n"
        "; another\n"
        "\n"
        "PLAIN=value\n"
        "  SPACED  =   padded value   \n"
        "DQ=\"a \\\"quoted\\\" \\$x \\n\"\n"
        "SQ='single $x \\n'\n"
        "MULTI=\"line1\nline2\"\n"
        "CONT=one\\\ntwo\n"
        "EMPTY=\n"
        "PLAIN=overridden\n"
        "LAST=no newline");
    const EnvironmentList expected{{"PLAIN", "overridden"},
                                   {"SPACED", "padded value"},
                                   {"DQ", "a \"quoted\" $x \\n"},
                                   {"SQ", "single $x \\n"},
                                   {"MULTI", "line1\nline2"},
                                   {"CONT", "onetwo"},
                                   {"EMPTY", ""},
                                   {"LAST", "no newline"}};
    CHECK(vars == expected);
    CHECK(parsed("").empty());
}

TEST_CASE("environment files: bad lines are errors with line and column") {
    CHECK(parse_error("A=1\n  just words\n") == "2:3: expected NAME=value");
    CHECK(parse_error("A=1\n1X=2\n") == "2:1: invalid variable name '1X' (letters, digits and '_', not starting with a digit)");
    CHECK(parse_error("A=\"open\n") == "1:1: unterminated quote in the value of A");
    CHECK(parse_error("=x\n") == "1:1: invalid variable name '' (letters, digits and '_', not starting with a digit)");
}

TEST_CASE("config: environment_file is applied before environment, later files override earlier") {
    TempFile first("A=from-first\nB=from-first\nC=from-first\n");
    TempFile second("B=from-second\n");
    auto result = foster::parse_config(
        "[services.s]\ncommand = \"x\"\nenvironment = { C = \"from-table\", D = \"d\" }\n"
        "environment_file = [\"" + first.path + "\", \"-/nonexistent/foster-optional.env\", \"" +
            second.path + "\"]\n",
        "f.toml");
    REQUIRE(result.config);
    const EnvironmentList expected{{"A", "from-first"}, {"B", "from-second"}, {"C", "from-table"}, {"D", "d"}};
    CHECK(result.config->services[0].environment == expected);
}

TEST_CASE("config: a changed environment file makes a changed service") {
    TempFile file("A=1\n");
    const std::string text = "[services.s]\ncommand = \"x\"\nenvironment_file = \"" + file.path + "\"\n";
    auto before = foster::parse_config(text, "f.toml");
    std::ofstream(file.path) << "A=2\n";
    auto after = foster::parse_config(text, "f.toml");
    REQUIRE(before.config);
    REQUIRE(after.config);
    CHECK(!(before.config->services[0] == after.config->services[0]));
}

TEST_CASE("config: environment_file errors point at the entry") {
    TempFile bad("OK=1\nnot a line\n");
    CHECK(load_errors("[services.s]\ncommand = \"x\"\nenvironment_file = [\"/nonexistent/app.env\"]\n") ==
          "f.toml:3:21: service 's': 'environment_file': cannot read /nonexistent/app.env: No such file or directory\n");
    CHECK(load_errors("[services.s]\ncommand = \"x\"\nenvironment_file = \"relative.env\"\n") ==
          "f.toml:3:20: service 's': 'environment_file' entries must be absolute paths (with a leading '-' "
          "when the file may be missing), not \"relative.env\"\n");
    CHECK(load_errors("[services.s]\ncommand = \"x\"\nenvironment_file = [\"" + bad.path + "\"]\n") ==
          "f.toml:3:21: service 's': 'environment_file': " + bad.path + ":2:1: expected NAME=value\n");
    CHECK(load_errors("[services.s]\ncommand = \"x\"\nenvironment_file = [\"/dev/null\", \"-/tmp\"]\n") ==
          "f.toml:3:21: service 's': 'environment_file': /dev/null is not a regular file\n"
          "f.toml:3:34: service 's': 'environment_file': /tmp is not a regular file\n");
    CHECK(load_errors("[services.s]\ncommand = \"x\"\nenvironment_file = 3\n") ==
          "f.toml:3:20: service 's': 'environment_file' must be an array of file paths, not an integer\n");
}

TEST_CASE("config: ${VAR} expands in command, environment, working_directory and output paths") {
    ::setenv("FOSTER_TEST_DIR", "/srv/app", 1);
    ::unsetenv("FOSTER_TEST_UNSET");
    auto result = foster::parse_config(
        "[services.s]\n"
        "command = [\"${FOSTER_TEST_DIR}/bin/run\", \"--mode=${FOSTER_TEST_UNSET:-prod}\", \"$$HOME\"]\n"
        "environment = { ROOT = \"${FOSTER_TEST_DIR}\" }\n"
        "working_directory = \"${FOSTER_TEST_DIR}/data\"\n"
        "stdout = \"${FOSTER_TEST_DIR}/out.log\"\n"
        "stderr = \"${FOSTER_TEST_DIR}/err.log\"\n"
        "[services.t]\n"
        "command = \"echo ${FOSTER_TEST_DIR} $$$$\"\n",
        "f.toml");
    REQUIRE(result.config);
    const auto& s = result.config->services[0];
    CHECK(s.argv == std::vector<std::string>{"/srv/app/bin/run", "--mode=prod", "$HOME"});
    CHECK(s.environment == EnvironmentList{{"ROOT", "/srv/app"}});
    CHECK(s.working_directory == "/srv/app/data");
    CHECK(s.stdout_target->path == "/srv/app/out.log");
    CHECK(s.stderr_target->path == "/srv/app/err.log");
    CHECK(result.config->services[1].argv.back() == "echo /srv/app $$");
    ::unsetenv("FOSTER_TEST_DIR");
}

TEST_CASE("config: an unset variable is an error at the string that uses it") {
    ::unsetenv("FOSTER_TEST_UNSET");
    CHECK(load_errors("[services.s]\ncommand = [\"run\", \"${FOSTER_TEST_UNSET}\"]\n"
                      "environment = { A = \"x${FOSTER_TEST_UNSET}\" }\n"
                      "working_directory = \"${FOSTER_TEST_UNSET}\"\n"
                      "stdout = \"/log/${FOSTER_TEST_UNSET\"\n") ==
          "f.toml:2:19: service 's': 'command': unset variable 'FOSTER_TEST_UNSET' (give a default with "
          "'${FOSTER_TEST_UNSET:-default}')\n"
          "f.toml:3:21: service 's': 'environment.A': unset variable 'FOSTER_TEST_UNSET' (give a default with "
          "'${FOSTER_TEST_UNSET:-default}')\n"
          "f.toml:4:21: service 's': 'working_directory': unset variable 'FOSTER_TEST_UNSET' (give a default with "
          "'${FOSTER_TEST_UNSET:-default}')\n"
          "f.toml:5:10: service 's': 'stdout': unterminated '${' (write '$$' for a literal '$')\n");
}

TEST_CASE("config: without resolve_environment (fosterctl) nothing outside the file is needed") {
    ::unsetenv("FOSTER_TEST_UNSET");
    foster::LoadOptions options;
    options.resolve_environment = false;
    auto result = foster::parse_config(
        "[foster]\ncontrol_socket = \"/run/x.sock\"\n"
        "[services.s]\ncommand = [\"run\", \"${FOSTER_TEST_UNSET}\"]\nenvironment_file = \"/nonexistent/app.env\"\n",
        "f.toml", options);
    REQUIRE(result.config);
    CHECK(result.config->control_socket == "/run/x.sock");
    CHECK(!foster::parse_config("[services.s]\ncommand = \"x\"\nenvironment_file = \"relative\"\n", "f.toml", options)
               .config);
}
