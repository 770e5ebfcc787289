// env_file.hpp — `environment_file` contents and `${VAR}` expansion.
//
// Both are pure: the caller reads the file and supplies the lookup, so the
// config loader can point errors at the key that named the file, and the
// unit tests need neither files nor a particular environment.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace foster {

using EnvironmentList = std::vector<std::pair<std::string, std::string>>;

// A problem inside an environment file; line and column are 1-based.
struct EnvFileError {
    int line = 0;
    int column = 0;
    std::string message;
};

struct EnvFileResult {
    EnvironmentList variables;  // in file order; a later NAME replaces an earlier one
    std::optional<EnvFileError> error;  // the first problem; variables is then empty
};

// systemd's EnvironmentFile= format: one NAME=value per line; blank lines and
// lines starting with '#' or ';' are comments; whitespace around the name and
// before the value is dropped; the name is [A-Za-z_][A-Za-z0-9_]*. In a value,
// "double quotes" keep everything but take \" \\ \$ \` as escapes (other
// backslashes stay), 'single quotes' keep everything, and both may span
// lines; outside quotes a backslash escapes the next character (a newline:
// the line continues) and trailing whitespace is dropped. A line without '='
// is an error: systemd skips it with a warning, we never ignore input.
EnvFileResult parse_environment_file(std::string_view text);

// Sets NAME to value in `list`: replaces an existing entry in place, or
// appends. Keeps one entry per name, so merge_environment() sees no duplicates.
void set_variable(EnvironmentList& list, const std::string& name, std::string value);

// `${VAR}`, `${VAR:-default}` (default when VAR is unset or empty) and `$$`
// (a literal '$'); any other '$' is kept as is, so shell syntax like `$HOME`
// or `$!` passes through to /bin/sh untouched.
struct Expansion {
    std::string text;                   // the result, when no error
    std::optional<std::string> error;  // "unset variable 'X'", "unterminated '${'", ...
};
using VariableLookup = std::function<std::optional<std::string>(const std::string& name)>;
Expansion expand_variables(std::string_view text, const VariableLookup& lookup);

// The lookup of foster's own environment (getenv).
std::optional<std::string> foster_environment(const std::string& name);

}  // namespace foster
