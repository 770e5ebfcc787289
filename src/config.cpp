// config.cpp — the only file that includes toml++ (it is slow to compile).
//
// The file is parsed by toml++ into a tree whose every node knows its line and
// column; this file walks that tree once, key by key, collecting every
// problem instead of stopping at the first, then checks what spans services
// (dependencies, `main`) and orders them.
#include "config.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <map>
#include <new>
#include <set>
#include <tuple>

// toml++ 3.3 asserts things about its input that are not always true (a
// table header such as "[=a]" fails one in parse_key); without NDEBUG that
// aborts foster on a typo. Its release behaviour is right (a parse error with
// line and column), so its asserts are off in every build, as with NDEBUG.
#ifndef TOML_ASSERT
#define TOML_ASSERT(expr) static_assert(true)
#endif
#include <toml++/toml.h>

#include "accounts.hpp"
#include "dependency_graph.hpp"
#include "fd.hpp"
#include "log.hpp"
#include "signal_names.hpp"

namespace foster {

namespace {

// ---------------------------------------------------------------------------
// Where and how problems are reported

struct Position {
    int line = 0;
    int column = 0;
    friend bool operator<(const Position& a, const Position& b) {
        return std::tie(a.line, a.column) < std::tie(b.line, b.column);
    }
};

Position position_of(const toml::source_region& region) {
    return {static_cast<int>(region.begin.line), static_cast<int>(region.begin.column)};
}
Position position_of(const toml::node& node) { return position_of(node.source()); }
Position position_of(const toml::key& key) { return position_of(key.source()); }

// Text from the file, quoted for a message: control characters are escaped
// so a hostile name cannot forge extra lines in foster's log.
std::string quoted(std::string_view text, char quote = '\'') {
    std::string out(1, quote);
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
            out += escaped;
        } else {
            out += c;
        }
    }
    out += quote;
    return out;
}

// A value from the file as a TOML string, for messages about values.
std::string value_text(std::string_view text) { return quoted(text, '"'); }

// "an integer", "a table", ...: what the file has where something else was expected.
std::string_view type_name(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a float";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        case toml::node_type::none: break;
    }
    return "nothing";
}

// A TOML number as written (near enough) for messages.
std::string number_text(const toml::node& node) {
    if (const auto* i = node.as_integer()) return std::to_string(i->get());
    if (const auto* f = node.as_floating_point()) {
        char text[64];
        std::snprintf(text, sizeof text, "%g", f->get());
        return text;
    }
    return {};
}

// Every problem found, in the order found; sorted by position at the end.
class Errors {
public:
    explicit Errors(std::string file) : file_(std::move(file)) {}

    void add(Position at, std::string message) {
        errors_.push_back(ConfigError{file_, at.line, at.column, std::move(message)});
    }
    [[nodiscard]] bool empty() const { return errors_.empty(); }
    [[nodiscard]] std::size_t count() const { return errors_.size(); }

    std::vector<ConfigError> take() {
        std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
            return std::tie(a.line, a.column) < std::tie(b.line, b.column);
        });
        return std::move(errors_);
    }

private:
    std::string file_;
    std::vector<ConfigError> errors_;
};

// Errors about one part of the file, each message starting with the part's
// name ("service 'web': ") so a line in a log says which service it concerns.
struct Scope {
    Errors& errors;
    std::string prefix;

    void error(Position at, std::string_view message) const {
        errors.add(at, prefix + std::string(message));
    }
    void error(const toml::node& at, std::string_view message) const {
        error(position_of(at), message);
    }
    void error(const toml::key& at, std::string_view message) const {
        error(position_of(at), message);
    }
};

// The entries of a table in the order they appear in the file (toml++ keeps
// them sorted by key).
std::vector<std::pair<const toml::key*, const toml::node*>> in_file_order(const toml::table& table) {
    std::vector<std::pair<const toml::key*, const toml::node*>> entries;
    for (auto&& [key, value] : table) entries.emplace_back(&key, &value);
    std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        return position_of(*a.first) < position_of(*b.first);
    });
    return entries;
}

std::string key_quoted(std::string_view key) { return quoted(key); }

// ---------------------------------------------------------------------------
// Readers for one value each. Each reports its own problems and returns
// nothing when the value is unusable. `key` is the key's name in messages.

std::string wrong_type(std::string_view key, std::string_view expected, const toml::node& value) {
    return key_quoted(key) + " must be " + std::string(expected) + ", not " +
           std::string(type_name(value));
}

bool has_nul(std::string_view text) { return text.find('\0') != std::string_view::npos; }

std::optional<std::string> read_string(const Scope& scope, std::string_view key,
                                       const toml::node& value) {
    const auto* s = value.as_string();
    if (s == nullptr) {
        scope.error(value, wrong_type(key, "a string", value));
        return std::nullopt;
    }
    if (has_nul(s->get())) {
        scope.error(value, key_quoted(key) + " must not contain NUL characters");
        return std::nullopt;
    }
    return s->get();
}

std::optional<bool> read_bool(const Scope& scope, std::string_view key, const toml::node& value) {
    if (const auto* b = value.as_boolean()) return b->get();
    scope.error(value, wrong_type(key, "true or false", value));
    return std::nullopt;
}

std::optional<int> read_int(const Scope& scope, std::string_view key, const toml::node& value,
                            std::int64_t min, std::int64_t max) {
    const auto* i = value.as_integer();
    if (i == nullptr) {
        scope.error(value, wrong_type(key, "an integer", value));
        return std::nullopt;
    }
    if (i->get() < min) {
        scope.error(value, key_quoted(key) + " must be at least " + std::to_string(min) + ", not " +
                               std::to_string(i->get()));
        return std::nullopt;
    }
    if (i->get() > max) {
        scope.error(value, key_quoted(key) + " must be at most " + std::to_string(max) + ", not " +
                               std::to_string(i->get()));
        return std::nullopt;
    }
    return static_cast<int>(i->get());
}

// A string with a unit ("250ms", "10s", "5m", "1h") or a number of seconds.
std::optional<Millis> read_duration(const Scope& scope, std::string_view key,
                                    const toml::node& value) {
    if (const auto* s = value.as_string()) {
        if (auto d = parse_duration(s->get())) return d;
        scope.error(value, key_quoted(key) + ": invalid duration " + value_text(s->get()) +
                               " (expected a number with unit ms, s, m or h, like \"10s\", "
                               "up to 99 days)");
        return std::nullopt;
    }
    std::optional<double> seconds;
    if (const auto* i = value.as_integer()) seconds = static_cast<double>(i->get());
    if (const auto* f = value.as_floating_point()) seconds = f->get();
    if (!seconds) {
        scope.error(value, wrong_type(key, "a duration, like \"10s\" or a number of seconds", value));
        return std::nullopt;
    }
    if (auto d = duration_from_seconds(*seconds)) return d;
    scope.error(value, key_quoted(key) + ": invalid duration " + number_text(value) +
                           " (expected a number of seconds from 0 up to 99 days)");
    return std::nullopt;
}

std::optional<Millis> read_positive_duration(const Scope& scope, std::string_view key,
                                             const toml::node& value) {
    const auto d = read_duration(scope, key, value);
    if (d && d->count() == 0) {
        scope.error(value, key_quoted(key) + " must be more than 0");
        return std::nullopt;
    }
    return d;
}

// "SIGTERM", "TERM", "term" or a number.
std::optional<int> read_signal(const Scope& scope, std::string_view key, const toml::node& value) {
    if (const auto* s = value.as_string()) {
        if (auto sig = parse_signal(s->get())) return sig;
        scope.error(value, key_quoted(key) + ": unknown signal " + quoted(s->get()));
        return std::nullopt;
    }
    if (const auto* i = value.as_integer()) {
        if (i->get() > 0 && i->get() < NSIG) return static_cast<int>(i->get());
        scope.error(value, key_quoted(key) + ": invalid signal number " + std::to_string(i->get()));
        return std::nullopt;
    }
    scope.error(value, wrong_type(key, "a signal name or number, like \"SIGTERM\" or 15", value));
    return std::nullopt;
}

template <typename Enum>
struct Choice {
    std::string_view name;
    Enum value;
};

// One of a few fixed strings.
template <typename Enum, std::size_t N>
std::optional<Enum> read_choice(const Scope& scope, std::string_view key, const toml::node& value,
                                const Choice<Enum> (&choices)[N]) {
    const auto text = read_string(scope, key, value);
    if (!text) return std::nullopt;
    for (const auto& choice : choices)
        if (choice.name == *text) return choice.value;
    std::string allowed;
    for (std::size_t i = 0; i < N; ++i) {
        if (i > 0) allowed += i + 1 == N ? " or " : ", ";
        allowed += "\"" + std::string(choices[i].name) + "\"";
    }
    scope.error(value, key_quoted(key) + " must be " + allowed + ", not " + value_text(*text));
    return std::nullopt;
}

// An array is an argv as is; a string is run by /bin/sh -c.
std::optional<std::vector<std::string>> read_command(const Scope& scope, std::string_view key,
                                                     const toml::node& value) {
    if (value.is_string()) {
        const auto text = read_string(scope, key, value);
        if (!text) return std::nullopt;
        if (text->find_first_not_of(" \t\r\n") == std::string::npos) {
            scope.error(value, key_quoted(key) + " must not be empty");
            return std::nullopt;
        }
        return std::vector<std::string>{"/bin/sh", "-c", *text};
    }
    const auto* array = value.as_array();
    if (array == nullptr) {
        scope.error(value, wrong_type(key, "an array of strings or a string", value));
        return std::nullopt;
    }
    if (array->empty()) {
        scope.error(value, key_quoted(key) + " must not be empty");
        return std::nullopt;
    }
    std::vector<std::string> argv;
    bool ok = true;
    for (const auto& element : *array) {
        const auto* s = element.as_string();
        if (s == nullptr) {
            scope.error(element, key_quoted(key) + " entries must be strings, not " +
                                     std::string(type_name(element)));
            ok = false;
        } else if (has_nul(s->get())) {
            scope.error(element, key_quoted(key) + " must not contain NUL characters");
            ok = false;
        } else {
            argv.push_back(s->get());
        }
    }
    if (ok && argv.front().empty()) {
        scope.error(*array->get(0), key_quoted(key) + ": the program name must not be empty");
        ok = false;
    }
    if (!ok) return std::nullopt;
    return argv;
}

std::optional<std::string> read_absolute_path(const Scope& scope, std::string_view key,
                                              const toml::node& value) {
    auto path = read_string(scope, key, value);
    if (path && (path->empty() || path->front() != '/')) {
        scope.error(value, key_quoted(key) + " must be an absolute path, not " + value_text(*path));
        return std::nullopt;
    }
    return path;
}

// ---------------------------------------------------------------------------
// [foster]

// Room in sockaddr_un::sun_path for a path and its terminating NUL.
constexpr std::size_t max_socket_path = 107;

void parse_foster_table(Errors& errors, const toml::node& node, Config& config) {
    const Scope scope{errors, "[foster]: "};
    const auto* table = node.as_table();
    if (table == nullptr) {
        errors.add(position_of(node), wrong_type("foster", "a table", node));
        return;
    }
    for (const auto& [key, value] : in_file_order(*table)) {
        const std::string_view name = key->str();
        if (name == "shutdown_timeout") {
            if (auto d = read_duration(scope, name, *value)) config.shutdown_timeout = *d;
        } else if (name == "control_socket") {
            auto path = read_absolute_path(scope, name, *value);
            if (path && path->size() > max_socket_path) {
                scope.error(*value, "'control_socket' is too long for a unix socket (at most " +
                                        std::to_string(max_socket_path) + " bytes)");
                path.reset();
            }
            if (path) config.control_socket = std::move(path);
        } else {
            scope.error(*key, "unknown key " + key_quoted(name));
        }
    }
}

// ---------------------------------------------------------------------------
// One service

// A `user` or `group` value before it is looked up.
struct AccountSpec {
    std::optional<std::uint32_t> number;  // given as a number
    std::string name;                     // given as a name
    Position at;
};

// uid_t/gid_t -1 means "no change" to the set*id calls, so it is not an id.
constexpr std::int64_t max_account_id = 4'294'967'294;

std::optional<AccountSpec> read_account(const Scope& scope, std::string_view key,
                                        const toml::node& value) {
    const std::string what = key == "user" ? "uid" : "gid";
    if (const auto* i = value.as_integer()) {
        if (i->get() < 0 || i->get() > max_account_id) {
            scope.error(value, key_quoted(key) + ": " + std::to_string(i->get()) +
                                   " is not a valid " + what);
            return std::nullopt;
        }
        return AccountSpec{static_cast<std::uint32_t>(i->get()), {}, position_of(value)};
    }
    if (value.as_string() == nullptr) {
        scope.error(value, wrong_type(key, "a name or a number", value));
        return std::nullopt;
    }
    auto text = read_string(scope, key, value);
    if (!text) return std::nullopt;
    if (text->empty()) {
        scope.error(value, key_quoted(key) + " must not be empty");
        return std::nullopt;
    }
    if (text->find_first_not_of("0123456789") != std::string::npos)
        return AccountSpec{std::nullopt, std::move(*text), position_of(value)};
    std::int64_t n = 0;
    for (const char c : *text) {
        n = n * 10 + (c - '0');
        if (n > max_account_id) {
            scope.error(value, key_quoted(key) + ": " + *text + " is not a valid " + what);
            return std::nullopt;
        }
    }
    return AccountSpec{static_cast<std::uint32_t>(n), {}, position_of(value)};
}

// Looks up `user` and `group` (see Credentials for the rules). Reports every
// name that does not exist.
std::optional<Credentials> resolve_credentials(const Scope& scope,
                                               const std::optional<AccountSpec>& user,
                                               const std::optional<AccountSpec>& group) {
    std::optional<gid_t> gid;
    bool ok = true;
    if (group && group->number) {
        gid = static_cast<gid_t>(*group->number);
    } else if (group) {
        gid = find_group(group->name);
        if (!gid) {
            scope.error(group->at, "unknown group " + quoted(group->name));
            ok = false;
        }
    }
    std::optional<UserEntry> entry;
    if (user && user->number) {
        entry = find_user(static_cast<uid_t>(*user->number));
    } else if (user) {
        entry = find_user(user->name);
        if (!entry) {
            scope.error(user->at, "unknown user " + quoted(user->name));
            ok = false;
        }
    }
    if (!ok) return std::nullopt;

    Credentials credentials;
    if (entry) {
        credentials.uid = entry->uid;
        credentials.gid = gid.value_or(entry->primary_gid);
        credentials.user_name = entry->name;
        credentials.groups = supplementary_groups(entry->name, credentials.gid);
    } else {
        // A bare number without a passwd entry, or `group` alone.
        credentials.uid = user ? static_cast<uid_t>(*user->number) : ::getuid();
        credentials.gid = gid.value_or(::getgid());
        credentials.groups = {credentials.gid};
    }
    return credentials;
}

std::optional<mode_t> read_umask(const Scope& scope, std::string_view key, const toml::node& value) {
    const auto* s = value.as_string();
    std::string_view text = s != nullptr ? std::string_view(s->get()) : std::string_view();
    if (text.size() == 4 && text.front() == '0') text.remove_prefix(1);
    const bool octal = text.size() == 3 && text.find_first_not_of("01234567") == std::string_view::npos;
    if (!octal) {
        scope.error(value, key_quoted(key) + " must be an octal string of 3 or 4 digits, like "
                                             "\"022\", not " +
                               (s != nullptr ? value_text(s->get()) : std::string(type_name(value))));
        return std::nullopt;
    }
    mode_t mode = 0;
    for (const char c : text) mode = static_cast<mode_t>(mode * 8 + static_cast<mode_t>(c - '0'));
    return mode;
}

std::optional<OutputTarget> read_output(const Scope& scope, std::string_view key,
                                        const toml::node& value) {
    const auto text = read_string(scope, key, value);
    if (!text) return std::nullopt;
    using Kind = OutputTarget::Kind;
    if (*text == "inherit") return OutputTarget{Kind::inherit, {}};
    if (*text == "null") return OutputTarget{Kind::null, {}};
    if (*text == "prefix") return OutputTarget{Kind::prefix, {}};
    const bool is_stderr = key == "stderr";
    if (is_stderr && *text == "stdout") return OutputTarget{Kind::same_as_stdout, {}};
    if (!text->empty() && text->front() == '/') return OutputTarget{Kind::file, *text};
    scope.error(value, key_quoted(key) + " must be \"inherit\", \"null\", \"prefix\"" +
                           (is_stderr ? ", \"stdout\"" : "") + " or an absolute file path, not " +
                           value_text(*text));
    return std::nullopt;
}

std::optional<std::vector<std::pair<std::string, std::string>>> read_environment(
    const Scope& scope, std::string_view key, const toml::node& value) {
    const auto* table = value.as_table();
    if (table == nullptr) {
        scope.error(value, wrong_type(key, "a table, like { NAME = \"value\" }", value));
        return std::nullopt;
    }
    std::vector<std::pair<std::string, std::string>> environment;
    bool ok = true;
    for (const auto& [name_key, name_value] : in_file_order(*table)) {
        const std::string name(name_key->str());
        if (name.empty() || name.find('=') != std::string::npos || has_nul(name)) {
            scope.error(*name_key, "invalid environment variable name " + quoted(name) +
                                       ": it must be non-empty, without '='");
            ok = false;
            continue;
        }
        auto text = read_string(scope, std::string(key) + "." + name, *name_value);
        if (text)
            environment.emplace_back(name, std::move(*text));
        else
            ok = false;
    }
    if (!ok) return std::nullopt;
    return environment;
}

using ExitCodes = std::vector<int>;

std::optional<ExitCodes> read_exit_codes(const Scope& scope, std::string_view key,
                                         const toml::node& value) {
    const auto* array = value.as_array();
    if (array == nullptr) {
        scope.error(value, wrong_type(key, "an array of integers", value));
        return std::nullopt;
    }
    if (array->empty()) {
        scope.error(value, key_quoted(key) + " must not be empty");
        return std::nullopt;
    }
    ExitCodes codes;
    bool ok = true;
    for (const auto& element : *array) {
        const auto* i = element.as_integer();
        if (i == nullptr) {
            scope.error(element, key_quoted(key) + " entries must be integers, not " +
                                     std::string(type_name(element)));
            ok = false;
        } else if (i->get() < 0 || i->get() > 255) {
            scope.error(element, key_quoted(key) + ": " + std::to_string(i->get()) +
                                     " is not an exit code (0 to 255)");
            ok = false;
        } else {
            codes.push_back(static_cast<int>(i->get()));
        }
    }
    if (!ok) return std::nullopt;
    return codes;
}

// A name in `depends_on` and where it was written, for the errors found once
// every service is known.
struct Dependency {
    std::string name;
    Position at;
};

std::optional<std::vector<Dependency>> read_dependencies(const Scope& scope, std::string_view key,
                                                         const toml::node& value) {
    const auto* array = value.as_array();
    if (array == nullptr) {
        scope.error(value, wrong_type(key, "an array of service names", value));
        return std::nullopt;
    }
    std::vector<Dependency> dependencies;
    for (const auto& element : *array) {
        const auto* s = element.as_string();
        if (s == nullptr)
            scope.error(element, key_quoted(key) + " entries must be service names (strings), not " +
                                     std::string(type_name(element)));
        else
            dependencies.push_back({s->get(), position_of(element)});
    }
    return dependencies;
}

// Everything known about one service while the file is checked: the config
// and the positions needed for checks that involve other services.
struct ServiceDraft {
    ServiceConfig config;
    Position header;                      // the [services.NAME] table
    std::vector<Dependency> dependencies;  // as written, with positions
    Position main_at;                      // the `main` value, when it is true
};

// The state of one service table while its keys are read.
struct ServiceReader {
    const Scope& scope;
    ServiceDraft& draft;
    bool has_command = false;
    std::optional<Position> restart_delay_max_at;  // given explicitly
    bool restart_delay_max_given = false;
    std::optional<AccountSpec> user, group;
    bool account_error = false;  // a bad user/group value, already reported
};

using KeyHandler = void (*)(ServiceReader&, std::string_view key, const toml::node& value);

struct KeyRule {
    std::string_view key;
    KeyHandler handle;
};

template <typename T>
void assign(T& field, std::optional<T>&& value) {
    if (value) field = std::move(*value);
}

constexpr Choice<ServiceType> service_types[] = {
    {"simple", ServiceType::simple}, {"oneshot", ServiceType::oneshot}, {"notify", ServiceType::notify}};
constexpr Choice<RestartPolicy> restart_policies[] = {{"no", RestartPolicy::no},
                                                      {"on-failure", RestartPolicy::on_failure},
                                                      {"always", RestartPolicy::always}};
constexpr Choice<OnFatal> on_fatal_choices[] = {{"ignore", OnFatal::ignore},
                                                {"shutdown", OnFatal::shutdown}};

std::optional<HealthCheck> read_healthcheck(const Scope& scope, std::string_view key,
                                            const toml::node& value);

// What each key of a service table means. A key not listed is an error.
constexpr KeyRule service_keys[] = {
    {"command",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         r.has_command = true;
         assign(r.draft.config.argv, read_command(r.scope, key, value));
     }},
    {"type",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         assign(r.draft.config.type, read_choice(r.scope, key, value, service_types));
     }},
    {"depends_on",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         assign(r.draft.dependencies, read_dependencies(r.scope, key, value));
     }},
    {"restart",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         assign(r.draft.config.restart, read_choice(r.scope, key, value, restart_policies));
     }},
    {"restart_delay",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         assign(r.draft.config.restart_delay, read_duration(r.scope, key, value));
     }},
    {"restart_delay_max",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         r.restart_delay_max_given = true;
         if (const auto d = read_duration(r.scope, key, value)) {
             r.draft.config.restart_delay_max = *d;
             r.restart_delay_max_at = position_of(value);
         }
     }},
    {"min_uptime",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         assign(r.draft.config.min_uptime, read_duration(r.scope, key, value));
     }},
    {"start_limit_burst",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         assign(r.draft.config.start_limit_burst, read_int(r.scope, key, value, 1, INT_MAX));
     }},
    {"start_limit_interval",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         assign(r.draft.config.start_limit_interval, read_duration(r.scope, key, value));
     }},
    {"success_exit_codes",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         assign(r.draft.config.success_exit_codes, read_exit_codes(r.scope, key, value));
     }},
    {"stop_signal",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         assign(r.draft.config.stop_signal, read_signal(r.scope, key, value));
     }},
    {"stop_timeout",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         assign(r.draft.config.stop_timeout, read_duration(r.scope, key, value));
     }},
    {"autostart",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         assign(r.draft.config.autostart, read_bool(r.scope, key, value));
     }},
    {"main",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         assign(r.draft.config.main, read_bool(r.scope, key, value));
         r.draft.main_at = position_of(value);
     }},
    {"on_fatal",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         assign(r.draft.config.on_fatal, read_choice(r.scope, key, value, on_fatal_choices));
     }},
    {"environment",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         assign(r.draft.config.environment, read_environment(r.scope, key, value));
     }},
    {"working_directory",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         if (auto path = read_absolute_path(r.scope, key, value))
             r.draft.config.working_directory = std::move(path);
     }},
    {"user",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         r.user = read_account(r.scope, key, value);
         r.account_error |= !r.user;
     }},
    {"group",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         r.group = read_account(r.scope, key, value);
         r.account_error |= !r.group;
     }},
    {"umask",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         if (auto mode = read_umask(r.scope, key, value)) r.draft.config.umask = mode;
     }},
    {"stdout",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         assign(r.draft.config.stdout_target, read_output(r.scope, key, value));
     }},
    {"stderr",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         assign(r.draft.config.stderr_target, read_output(r.scope, key, value));
     }},
    {"healthcheck",
     [](ServiceReader& r, std::string_view key, const toml::node& value) {
         if (auto check = read_healthcheck(r.scope, key, value))
             r.draft.config.healthcheck = std::move(check);
     }},
};

std::optional<HealthCheck> read_healthcheck(const Scope& scope, std::string_view key,
                                            const toml::node& value) {
    const auto* table = value.as_table();
    if (table == nullptr) {
        scope.error(value, wrong_type(key, "a table, like { command = [...] }", value));
        return std::nullopt;
    }
    HealthCheck check;
    bool ok = true, has_command = false;
    const auto keep = [&ok](auto& field, auto&& read) {
        if (read)
            field = *read;
        else
            ok = false;
    };
    for (const auto& [sub_key, sub_value] : in_file_order(*table)) {
        const std::string_view name = sub_key->str();
        const std::string full = std::string(key) + "." + std::string(name);
        if (name == "command") {
            has_command = true;
            keep(check.argv, read_command(scope, full, *sub_value));
        } else if (name == "interval") {
            keep(check.interval, read_positive_duration(scope, full, *sub_value));
        } else if (name == "timeout") {
            keep(check.timeout, read_positive_duration(scope, full, *sub_value));
        } else if (name == "retries") {
            keep(check.retries, read_int(scope, full, *sub_value, 1, INT_MAX));
        } else if (name == "start_period") {
            keep(check.start_period, read_duration(scope, full, *sub_value));
        } else {
            scope.error(*sub_key, "unknown key " + key_quoted(full));
            ok = false;
        }
    }
    if (!has_command) {
        scope.error(value, "missing required key " + key_quoted(std::string(key) + ".command"));
        ok = false;
    }
    if (!ok) return std::nullopt;
    return check;
}

// Checks that concern several keys of one service.
void finish_service(ServiceReader& r, const toml::table& table) {
    ServiceConfig& config = r.draft.config;
    if (!r.has_command) r.scope.error(table, "missing required key 'command'");
    if (!r.restart_delay_max_given) {
        config.restart_delay_max = std::max(config.restart_delay_max, config.restart_delay);
    } else if (r.restart_delay_max_at && config.restart_delay_max < config.restart_delay) {
        r.scope.error(*r.restart_delay_max_at,
                      "'restart_delay_max' (" + format_duration(config.restart_delay_max) +
                          ") must not be less than 'restart_delay' (" +
                          format_duration(config.restart_delay) + ")");
    }
    if ((r.user || r.group) && !r.account_error)
        config.credentials = resolve_credentials(r.scope, r.user, r.group);
    for (const auto& dependency : r.draft.dependencies)
        config.depends_on.push_back(dependency.name);
}

ServiceDraft parse_service(Errors& errors, const std::string& name, const toml::table& table) {
    const Scope scope{errors, "service " + quoted(name) + ": "};
    ServiceDraft draft;
    draft.config.name = name;
    draft.header = position_of(table);
    ServiceReader reader{scope, draft, {}, {}, {}, {}, {}, {}};
    for (const auto& [key, value] : in_file_order(table)) {
        const std::string_view key_name = key->str();
        const auto rule = std::find_if(std::begin(service_keys), std::end(service_keys),
                                       [&](const KeyRule& r) { return r.key == key_name; });
        if (rule == std::end(service_keys))
            scope.error(*key, "unknown key " + key_quoted(key_name));
        else
            rule->handle(reader, key_name, *value);
    }
    finish_service(reader, table);
    return draft;
}

// Service names appear in logs, in "NAME | line" prefixes and on fosterctl's
// command line, so they are kept to characters that need no quoting.
bool valid_service_name(std::string_view name) {
    return !name.empty() && name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                   "abcdefghijklmnopqrstuvwxyz"
                                                   "0123456789_.-") == std::string_view::npos;
}

// ---------------------------------------------------------------------------
// Checks across services

// At most one `main = true`, and none when PROGRAM is the main process.
// `drafts` are in file order, so the first `main` in the file is the one kept.
void check_main(Errors& errors, const std::vector<ServiceDraft>& drafts, const LoadOptions& options) {
    const ServiceDraft* first = nullptr;
    for (const auto& draft : drafts) {
        if (!draft.config.main) continue;
        const std::string prefix = "service " + quoted(draft.config.name) + ": ";
        if (options.has_program) {
            errors.add(draft.main_at, prefix + "'main = true' is not allowed when foster runs a "
                                               "PROGRAM (after --): PROGRAM is the main process");
        } else if (first != nullptr) {
            errors.add(draft.main_at, prefix + "'main = true' is already set for service " +
                                          quoted(first->config.name) +
                                          "; only one service can be main");
        } else {
            first = &draft;
        }
    }
}

// Unknown names, self-dependencies and cycles; returns the graph of the
// dependencies that name a service, for the start order. `drafts` are sorted
// by name, and graph node i is drafts[i].
DependencyGraph check_dependencies(Errors& errors, const std::vector<ServiceDraft>& drafts,
                                   const std::set<std::string>& all_names) {
    DependencyGraph graph;
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < drafts.size(); ++i) {
        graph.names.push_back(drafts[i].config.name);
        index.emplace(drafts[i].config.name, i);
    }
    graph.dependencies.resize(drafts.size());
    for (std::size_t i = 0; i < drafts.size(); ++i) {
        const std::string prefix = "service " + quoted(drafts[i].config.name) + ": ";
        for (const auto& dependency : drafts[i].dependencies) {
            if (dependency.name == drafts[i].config.name) {
                errors.add(dependency.at, prefix + "depends on itself");
            } else if (all_names.count(dependency.name) == 0) {
                errors.add(dependency.at,
                           prefix + "depends on unknown service " + quoted(dependency.name));
            } else if (const auto found = index.find(dependency.name); found != index.end()) {
                graph.dependencies[i].push_back(found->second);
            }
            // Otherwise the service exists but is itself invalid: already reported.
        }
    }
    for (const auto& cycle : find_cycles(graph)) {
        std::string path;
        for (const std::size_t node : cycle) path += graph.names[node] + " -> ";
        path += graph.names[cycle.front()];
        // Point at the first service's entry that leads into the cycle.
        const ServiceDraft& first = drafts[cycle.front()];
        const std::string& next = graph.names[cycle.size() > 1 ? cycle[1] : cycle[0]];
        Position at = first.header;
        for (const auto& dependency : first.dependencies)
            if (dependency.name == next) {
                at = dependency.at;
                break;
            }
        errors.add(at, "dependency cycle: " + path);
    }
    return graph;
}

// The [services] table: every service, then the checks across them.
void parse_services(Errors& errors, const toml::node& node, const LoadOptions& options,
                    Config& config) {
    const auto* services = node.as_table();
    if (services == nullptr) {
        errors.add(position_of(node), wrong_type("services", "a table, like [services.NAME]", node));
        return;
    }
    std::set<std::string> all_names;
    std::vector<ServiceDraft> drafts;  // in file order
    for (const auto& [key, value] : in_file_order(*services)) {
        const std::string name(key->str());
        all_names.insert(name);
        const auto* table = value->as_table();
        if (!valid_service_name(name)) {
            errors.add(position_of(*key),
                       name.empty() ? std::string("service name must not be empty")
                                    : "invalid service name " + quoted(name) +
                                          ": only letters, digits, '_', '.' and '-' are allowed");
        } else if (table == nullptr) {
            errors.add(position_of(*value),
                       wrong_type("services." + name, "a table, like [services." + name + "]", *value));
        } else {
            drafts.push_back(parse_service(errors, name, *table));
        }
    }
    check_main(errors, drafts, options);
    std::sort(drafts.begin(), drafts.end(), [](const auto& a, const auto& b) {
        return a.config.name < b.config.name;
    });
    const DependencyGraph graph = check_dependencies(errors, drafts, all_names);
    if (!errors.empty()) return;
    config.start_order = start_order(graph);
    for (auto& draft : drafts) config.services.push_back(std::move(draft.config));
}

LoadResult parse_document(std::string_view text, std::string_view file_name,
                          const LoadOptions& options) {
    Errors errors{std::string(file_name)};
    const toml::parse_result parsed = toml::parse(text, file_name);
    if (!parsed) {
        const auto& failure = parsed.error();
        errors.add(position_of(failure.source()), std::string(failure.description()));
        return {std::nullopt, errors.take()};
    }
    Config config;
    for (const auto& [key, value] : in_file_order(parsed.table())) {
        const std::string_view name = key->str();
        if (name == "foster")
            parse_foster_table(errors, *value, config);
        else if (name == "services")
            parse_services(errors, *value, options, config);
        else
            errors.add(position_of(*key), "unknown key " + key_quoted(name) +
                                              ": only [foster] and [services.NAME] are allowed");
    }
    if (!errors.empty()) return {std::nullopt, errors.take()};
    return {std::move(config), {}};
}

// Bigger files are refused rather than read into memory: no services file
// is anywhere near this, and /dev/zero must not hang foster.
constexpr std::size_t max_file_size = std::size_t{16} << 20;

// The whole file, or nothing and the reason in `failure`.
std::optional<std::string> read_file(const std::string& path, std::string& failure) {
    Fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY)};
    if (!fd) {
        failure = log::errno_text(errno);
        return std::nullopt;
    }
    std::string contents;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            failure = log::errno_text(errno);
            return std::nullopt;
        }
        if (n == 0) return contents;
        contents.append(buffer, static_cast<std::size_t>(n));
        if (contents.size() > max_file_size) {
            failure = "file is larger than 16 MiB";
            return std::nullopt;
        }
    }
}

LoadResult single_error(std::string_view file, std::string message) {
    return {std::nullopt, {ConfigError{std::string(file), 0, 0, std::move(message)}}};
}

}  // namespace

std::string ConfigError::to_string() const {
    if (line == 0) return file + ": " + message;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

LoadResult parse_config(std::string_view text, std::string_view file_name,
                        const LoadOptions& options) {
    try {
        return parse_document(text, file_name, options);
    } catch (const std::bad_alloc&) {
        return single_error(file_name, "out of memory while reading the file");
    } catch (const std::exception& e) {
        // toml++ is built without exceptions; this is only a safety net.
        return single_error(file_name, std::string("cannot parse: ") + e.what());
    }
}

LoadResult load_config(const std::string& path, const LoadOptions& options) {
    try {
        std::string failure;
        const auto contents = read_file(path, failure);
        if (!contents) return single_error(path, "cannot read: " + failure);
        return parse_config(*contents, path, options);
    } catch (const std::bad_alloc&) {
        return single_error(path, "out of memory while reading the file");
    }
}

}  // namespace foster
