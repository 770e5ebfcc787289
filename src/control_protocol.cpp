#include "control_protocol.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <iterator>
#include <limits>
#include <system_error>

#include "log_protocol.hpp"
#include "signal_names.hpp"

namespace foster::control {

namespace {

struct CommandSpelling {
    Command command;
    std::string_view name;
};

constexpr CommandSpelling command_spellings[] = {
    {Command::status, "status"}, {Command::start, "start"},   {Command::stop, "stop"},
    {Command::restart, "restart"}, {Command::signal, "signal"}, {Command::reload, "reload"},
    {Command::shutdown, "shutdown"}, {Command::check, "check"},     {Command::reopen, "reopen"},
    {Command::logs, "logs"},
};

constexpr std::string_view wait_prefix = "--wait=";
constexpr std::string_view mode_prefix = "--mode=";
constexpr std::string_view overlap_option = "--mode=overlap";
constexpr std::string_view row_tag = "service";
constexpr std::string_view detail_tag = "detail";
constexpr std::size_t max_word_bytes = 32;

// A value shown in a message: quoted, and cut short so that one bad token of
// 4000 bytes does not make a 4000-byte error line.
std::string quoted(std::string_view text) {
    constexpr std::size_t shown = 64;
    if (text.size() > shown) return "'" + std::string(text.substr(0, shown)) + "...'";
    return "'" + std::string(text) + "'";
}

std::string hex_byte(unsigned char c) {
    constexpr char digits[] = "0123456789abcdef";
    return std::string("0x") + digits[c >> 4] + digits[c & 0xf];
}

// A canonical decimal: digits only, no sign, no leading zero (except "0"
// itself), at most `max`. Canonical so that every number has one spelling.
std::optional<unsigned long long> parse_decimal(std::string_view text, unsigned long long max) {
    if (text.empty() || (text.size() > 1 && text[0] == '0')) return std::nullopt;
    unsigned long long value = 0;
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end || value > max) return std::nullopt;
    return value;
}

// The word of a state or a health: [a-z][a-z_-]*, short. Words rather than a
// fixed list so that a state added later does not break older clients.
bool valid_word(std::string_view text) {
    if (text.empty() || text.size() > max_word_bytes || text[0] < 'a' || text[0] > 'z') return false;
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return (c >= 'a' && c <= 'z') || c == '_' || c == '-'; });
}

// Text in an answer ("error TEXT", "detail\tTEXT"): any byte but the control
// characters, tab excepted. Bytes from 0x80 pass, for UTF-8 file names.
bool is_control(char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
}

bool valid_text(std::string_view text) { return std::none_of(text.begin(), text.end(), is_control); }

void append_sanitized(std::string& out, std::string_view text) {
    for (char c : text) out += is_control(c) ? '?' : c;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> parts;
    while (true) {
        const auto at = text.find(separator);
        parts.push_back(text.substr(0, at));
        if (at == std::string_view::npos) return parts;
        text.remove_prefix(at + 1);
    }
}

// Splits `text` into `fields` without allocating (a status answer has a row
// per service); returns how many fields there are, fields.size() + 1 when
// there are more than fit.
template <std::size_t N>
std::size_t split_into(std::string_view text, char separator, std::array<std::string_view, N>& fields) {
    for (std::size_t count = 0; count < N; ++count) {
        const auto at = text.find(separator);
        fields[count] = text.substr(0, at);
        if (at == std::string_view::npos) return count + 1;
        text.remove_prefix(at + 1);
    }
    return N + 1;
}

ParsedRequest refuse(std::string error) { return {std::nullopt, std::move(error)}; }

// Checks the bytes of a request line (its '\n' already removed) and splits it
// into tokens; an error text when the line is not well formed.
std::string tokenize(std::string_view line, std::vector<std::string_view>& tokens) {
    if (line.size() + 1 > max_request_bytes)
        return "request is longer than " + std::to_string(max_request_bytes) + " bytes";
    if (line.empty()) return "empty request";
    for (std::size_t i = 0; i < line.size(); ++i) {
        const auto c = static_cast<unsigned char>(line[i]);
        if (c != ' ' && (c < 0x21 || c > 0x7e))
            return "request byte " + std::to_string(i + 1) + " is " + hex_byte(c) +
                   ": only printable ASCII and single spaces are allowed";
    }
    tokens = split(line, ' ');
    std::size_t offset = 0;
    for (const auto token : tokens) {
        if (token.empty())
            return "extra space at request byte " + std::to_string(offset + 1) +
                   ": tokens are separated by single spaces";
        offset += token.size() + 1;
    }
    return {};
}

// The service names of a request: each valid, none twice.
std::string check_names(const std::vector<std::string_view>& args, std::string_view command,
                        std::vector<std::string>& names) {
    for (const auto arg : args) {
        if (arg.substr(0, wait_prefix.size()) == wait_prefix)
            return command == "start" || command == "stop" || command == "restart"
                       ? "--wait must come before the service names"
                       : std::string(command) + " takes no --wait";
        if (arg.substr(0, mode_prefix.size()) == mode_prefix)
            return command == "restart" ? "--mode must come right after --wait, before the service names"
                                        : std::string(command) + " takes no --mode";
        if (!valid_name(arg))
            return "bad service name " + quoted(arg) + ": 1 to " + std::to_string(max_name_bytes) +
                   " of A-Z a-z 0-9 _ . - @";
        if (std::find(names.begin(), names.end(), arg) != names.end())
            return "service " + quoted(arg) + " named twice";
        names.emplace_back(arg);
    }
    return {};
}

// logs [--last=N] [--since=MS] [--follow] [NAME...]: the options in any order,
// each once, before the names; names as valid_log_name (a syslog tag may hold '/').
std::string parse_logs_arguments(Request& request, std::vector<std::string_view> args) {
    constexpr std::string_view last_prefix = "--last=", since_prefix = "--since=";
    std::size_t i = 0;
    for (; i < args.size() && args[i].substr(0, 2) == "--"; ++i) {
        const auto arg = args[i];
        if (arg.substr(0, last_prefix.size()) == last_prefix) {
            if (request.last) return "--last given twice";
            const auto value = arg.substr(last_prefix.size());
            const auto n = parse_decimal(value, std::numeric_limits<std::uint32_t>::max());
            if (!n) return "bad --last value " + quoted(value) + ": a number of lines, 0 to 4294967295";
            request.last = *n;
        } else if (arg.substr(0, since_prefix.size()) == since_prefix) {
            if (request.since) return "--since given twice";
            const auto value = arg.substr(since_prefix.size());
            const auto ms = parse_decimal(value, static_cast<unsigned long long>(max_wait.count()));
            if (!ms) return "bad --since value " + quoted(value) + ": milliseconds, 0 to " + std::to_string(max_wait.count());
            request.since = Millis{static_cast<Millis::rep>(*ms)};
        } else if (arg == "--follow") {
            if (request.follow) return "--follow given twice";
            request.follow = true;
        } else {
            return "unknown logs option " + quoted(arg);
        }
    }
    for (; i < args.size(); ++i) {
        if (args[i].substr(0, 2) == "--" && args[i].find('=') != std::string_view::npos)
            return "logs options must come before the names";
        if (!valid_log_name(args[i]))
            return "bad name " + quoted(args[i]) + ": 1 to " + std::to_string(max_name_bytes) + " of A-Z a-z 0-9 _ . - /";
        if (std::find(request.names.begin(), request.names.end(), args[i]) != request.names.end())
            return "name " + quoted(args[i]) + " given twice";
        request.names.emplace_back(args[i]);
    }
    return {};
}

// The arguments of one command, in `request`; an error text when they do not fit.
std::string parse_arguments(Request& request, std::string_view command,
                            std::vector<std::string_view> args) {
    switch (request.command) {
    case Command::status:
    case Command::check:
        return check_names(args, command, request.names);
    case Command::start:
    case Command::stop:
    case Command::restart:
        if (!args.empty() && args[0].substr(0, wait_prefix.size()) == wait_prefix) {
            const auto value = args[0].substr(wait_prefix.size());
            const auto ms = parse_decimal(value, static_cast<unsigned long long>(max_wait.count()));
            if (!ms)
                return "bad --wait value " + quoted(value) + ": milliseconds, 0 to " +
                       std::to_string(max_wait.count());
            request.wait = Millis{static_cast<Millis::rep>(*ms)};
            args.erase(args.begin());
            if (!args.empty() && args[0].substr(0, wait_prefix.size()) == wait_prefix)
                return "--wait given twice";
        }
        if (request.command == Command::restart && !args.empty() &&
            args[0].substr(0, mode_prefix.size()) == mode_prefix) {
            if (args[0] != overlap_option)
                return "bad --mode value " + quoted(args[0].substr(mode_prefix.size())) + ": only 'overlap'";
            request.overlap = true;
            args.erase(args.begin());
        }
        if (args.empty()) return std::string(command) + " needs at least one service name";
        return check_names(args, command, request.names);
    case Command::signal: {
        if (args.empty()) return "signal needs a signal and at least one service name";
        const auto sig = parse_signal(args[0]);
        if (!sig) return "bad signal " + quoted(args[0]);
        request.signal = *sig;
        args.erase(args.begin());
        if (args.empty()) return "signal needs at least one service name";
        return check_names(args, command, request.names);
    }
    case Command::reload:  // names: send their reload_signal; none: foster's own reload
        return check_names(args, command, request.names);
    case Command::shutdown:
    case Command::reopen:
        if (!args.empty()) return std::string(command) + " takes no arguments";
        return {};
    case Command::logs:
        return parse_logs_arguments(request, args);
    }
    return "unknown command";  // not reached: every Command is handled above
}

template <typename T>
void append_optional(std::string& out, const std::optional<T>& value) {
    out += value ? std::to_string(*value) : "-";
}

}  // namespace

std::string_view command_name(Command command) {
    for (const auto& spelling : command_spellings)
        if (spelling.command == command) return spelling.name;
    return "unknown";
}

std::optional<Command> parse_command(std::string_view name) {
    for (const auto& spelling : command_spellings)
        if (spelling.name == name) return spelling.command;
    return std::nullopt;
}

bool valid_name(std::string_view name) {
    if (name.empty() || name.size() > max_name_bytes) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-' || c == '@';
    });
}

ParsedRequest parse_request(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    std::vector<std::string_view> tokens;
    if (auto error = tokenize(line, tokens); !error.empty()) return refuse(std::move(error));
    if (tokens[0] != protocol_version)
        return refuse("unsupported protocol " + quoted(tokens[0]) + " (expected " +
                      std::string(protocol_version) + ")");
    if (tokens.size() < 2) return refuse("missing command after " + std::string(protocol_version));
    const auto command = parse_command(tokens[1]);
    if (!command) return refuse("unknown command " + quoted(tokens[1]));
    Request request;
    request.command = *command;
    if (auto error = parse_arguments(request, tokens[1], {tokens.begin() + 2, tokens.end()});
        !error.empty())
        return refuse(std::move(error));
    return {std::move(request), {}};
}

std::string format_request(const Request& request) {
    std::string out(protocol_version);
    out += ' ';
    out += command_name(request.command);
    if (request.wait) out += " --wait=" + std::to_string(request.wait->count());
    if (request.overlap) out += ' ' + std::string(overlap_option);
    if (request.command == Command::signal) out += ' ' + std::to_string(request.signal);
    if (request.last) out += " --last=" + std::to_string(*request.last);
    if (request.since) out += " --since=" + std::to_string(request.since->count());
    if (request.follow) out += " --follow";
    for (const auto& name : request.names) out += ' ' + name;
    out += '\n';
    return out;
}

std::string format_status_row(const StatusRow& row) {
    std::string out(row_tag);
    out += '\t' + row.name + '\t' + row.state + '\t';
    append_optional(out, row.pid);
    out += '\t';
    append_optional(out, row.uptime_ms);
    out += '\t' + std::to_string(row.restarts) + '\t';
    append_optional(out, row.exit_status);
    out += '\t';
    out += row.health.empty() ? "-" : row.health;
    out += '\t';
    append_optional(out, row.next_run);
    if (row.overlap_pid) out += '\t' + std::to_string(*row.overlap_pid) + '\t' + row.overlap_role;
    out += '\n';
    return out;
}

std::optional<StatusRow> parse_status_row(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    std::array<std::string_view, 11> fields;
    const std::size_t count = split_into(line, '\t', fields);
    // 8 fields from a foster before schedules, 9 with NEXT_RUN, 11 during an overlap.
    if ((count != 8 && count != 9 && count != 11) || fields[0] != row_tag) return std::nullopt;
    StatusRow row;
    if (!valid_name(fields[1]) || !valid_word(fields[2])) return std::nullopt;
    row.name = fields[1];
    row.state = fields[2];
    if (fields[3] != "-") {
        const auto pid = parse_decimal(fields[3], std::numeric_limits<pid_t>::max());
        if (!pid || *pid == 0) return std::nullopt;
        row.pid = static_cast<pid_t>(*pid);
    }
    if (fields[4] != "-") {
        const auto uptime = parse_decimal(fields[4], std::numeric_limits<long long>::max());
        if (!uptime) return std::nullopt;
        row.uptime_ms = static_cast<long long>(*uptime);
    }
    const auto restarts = parse_decimal(fields[5], std::numeric_limits<unsigned>::max());
    if (!restarts) return std::nullopt;
    row.restarts = static_cast<unsigned>(*restarts);
    if (fields[6] != "-") {
        const auto status = parse_decimal(fields[6], 255);
        if (!status) return std::nullopt;
        row.exit_status = static_cast<int>(*status);
    }
    if (fields[7] != "-" && !valid_word(fields[7])) return std::nullopt;
    row.health = fields[7];
    if (count >= 9 && fields[8] != "-") {
        const auto next = parse_decimal(fields[8], std::numeric_limits<long long>::max());
        if (!next) return std::nullopt;
        row.next_run = static_cast<long long>(*next);
    }
    if (count == 11) {
        const auto pid = parse_decimal(fields[9], std::numeric_limits<pid_t>::max());
        if (!pid || *pid == 0 || !valid_word(fields[10])) return std::nullopt;
        row.overlap_pid = static_cast<pid_t>(*pid);
        row.overlap_role = fields[10];
    }
    return row;
}

std::string format_response(const Response& response) {
    std::string out;
    if (response.ok) {
        out = "ok\n";
    } else {
        out = "error ";
        append_sanitized(out, response.error.empty() ? "unspecified error" : response.error);
        out += '\n';
    }
    for (const auto& row : response.rows) out += format_status_row(row);
    for (const auto& detail : response.details) {
        out += detail_tag;
        out += '\t';
        append_sanitized(out, detail);
        out += '\n';
    }
    return out;
}

std::optional<Response> parse_response(std::string_view text, const std::function<void(StatusRow&&)>& on_row) {
    if (text.empty() || text.back() != '\n') return std::nullopt;
    text.remove_suffix(1);
    // Line by line, without a list of the lines: an answer has a line per service.
    auto end = text.find('\n');
    const std::string_view status = text.substr(0, end);
    Response response;
    if (status == "ok") {
        response.ok = true;
    } else if (status.substr(0, 6) == "error " && status.size() > 6 && valid_text(status.substr(6))) {
        response.ok = false;
        response.error = status.substr(6);
    } else {
        return std::nullopt;
    }
    while (end != std::string_view::npos) {
        text.remove_prefix(end + 1);
        end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        const auto tab = line.find('\t');
        const auto tag = line.substr(0, tab);
        if (tab == std::string_view::npos) return std::nullopt;
        if (tag == row_tag) {
            auto row = parse_status_row(line);
            if (!row) return std::nullopt;
            on_row(std::move(*row));
        } else if (tag == detail_tag && valid_text(line.substr(tab + 1))) {
            response.details.emplace_back(line.substr(tab + 1));
        } else {
            return std::nullopt;
        }
    }
    return response;
}

std::optional<Response> parse_response(std::string_view text) {
    std::vector<StatusRow> rows;
    auto response = parse_response(text, [&rows](StatusRow&& row) { rows.push_back(std::move(row)); });
    if (response) response->rows = std::move(rows);
    return response;
}

std::string socket_path(const std::optional<std::string>& from_command_line, const char* env_foster_socket,
                        const std::optional<std::string>& from_config, uid_t uid, const char* env_xdg_runtime_dir) {
    if (from_command_line) return *from_command_line;
    if (env_foster_socket != nullptr && *env_foster_socket != '\0') return env_foster_socket;
    if (from_config) return *from_config;
    if (uid == 0) return "/run/foster.sock";
    if (env_xdg_runtime_dir != nullptr && *env_xdg_runtime_dir != '\0')
        return std::string(env_xdg_runtime_dir) + "/foster.sock";
    return "/tmp/foster-" + std::to_string(uid) + ".sock";
}

}  // namespace foster::control
