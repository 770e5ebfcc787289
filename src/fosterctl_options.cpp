#include "fosterctl_options.hpp"

#include <algorithm>
#include <string_view>

#include "quoted_arg.hpp"
#include "signal_names.hpp"

namespace foster::ctl {

namespace {

// Reads one option with a value, spelled "-s V", "-sV", "--socket V" or
// "--socket=V". Returns false when args[i] is not this option; `error` is set
// when it is but has no value.
bool take_value(const std::vector<std::string>& args, std::size_t& i, std::string_view short_name,
                std::string_view long_name, std::optional<std::string>& value, std::string& error) {
    const std::string_view arg = args[i];
    const std::string long_eq = std::string(long_name) + "=";
    if (!short_name.empty() && arg.size() > short_name.size() && arg.substr(0, short_name.size()) == short_name) {
        value = std::string(arg.substr(short_name.size()));
    } else if (arg.substr(0, long_eq.size()) == long_eq) {
        value = std::string(arg.substr(long_eq.size()));
    } else if (arg == short_name || arg == long_name) {
        if (i + 1 >= args.size()) {
            error = std::string(arg) + " needs a value";
            return true;
        }
        value = args[++i];
    } else {
        return false;
    }
    if (value->empty()) error = std::string(long_name) + " needs a value";
    return true;
}

// The options of `logs`; false when `arg` is not one of them.
bool take_logs_option(const std::vector<std::string>& args, std::size_t& i, Invocation& out, std::string& error) {
    const std::string& arg = args[i];
    std::optional<std::string> value;
    if (arg == "-f" || arg == "--follow") {
        out.request.follow = true;
    } else if (arg == "--json") {
        out.json = true;
    } else if (take_value(args, i, "-n", "--lines", value, error)) {
        if (!error.empty()) return true;
        const auto digits = std::all_of(value->begin(), value->end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits || value->size() > 9) error = "bad -n value " + quoted_arg(*value) + ": a number of lines";
        else out.request.last = std::stoull(*value);
    } else if (take_value(args, i, "", "--since", value, error)) {
        if (!error.empty()) return true;
        const auto since = parse_duration(*value);
        if (!since) error = "bad --since value " + quoted_arg(*value) + " (like 30s, 5m, 2h)";
        else out.request.since = std::min(*since, control::max_wait);
    } else {
        return false;
    }
    return true;
}

// The options after COMMAND, and its names (and SIG). Returns an error text.
std::string parse_command_arguments(const std::vector<std::string>& args, std::size_t i, Invocation& out) {
    using control::Command;
    auto& request = out.request;
    const Command command = request.command;
    const bool waits = command == Command::start || command == Command::stop || command == Command::restart;
    std::vector<std::string> positional;
    bool only_names = false;
    for (; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (!only_names && arg == "--") {
            only_names = true;
        } else if (!only_names && arg.size() > 1 && arg[0] == '-') {
            std::string error;
            if (command == Command::logs && take_logs_option(args, i, out, error)) {
                if (!error.empty()) return error;
            } else if (command == Command::status && arg == "--json")
                out.json = true;
            else if (waits && arg == "--no-wait")
                out.no_wait = true;
            else if (command == Command::restart && arg == "--overlap")
                request.overlap = true;
            else if (command == Command::check && (arg == "-q" || arg == "--quiet"))
                out.quiet = true;
            else
                return "unknown option " + quoted_arg(arg) + " for " + std::string(control::command_name(command));
        } else {
            positional.push_back(arg);
        }
    }
    if (command == Command::signal) {
        if (positional.empty()) return "signal needs a signal and at least one service name";
        const auto sig = parse_signal(positional.front());
        if (!sig) return "bad signal " + quoted_arg(positional.front());
        request.signal = *sig;
        positional.erase(positional.begin());
    }
    request.names = std::move(positional);
    return {};
}

}  // namespace

std::string parse_command_line(const std::vector<std::string>& args, Invocation& out, bool& help,
                               bool& version) {
    std::size_t i = 1;
    for (; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg.size() < 2 || arg[0] != '-') break;
        if (arg == "-h" || arg == "--help") {
            help = true;
            return {};
        }
        if (arg == "-V" || arg == "--version") {
            version = true;
            return {};
        }
        std::string error;
        std::optional<std::string> timeout;
        if (take_value(args, i, "-s", "--socket", out.socket, error) ||
            take_value(args, i, "-c", "--config", out.config_path, error)) {
            if (!error.empty()) return error;
        } else if (take_value(args, i, "", "--timeout", timeout, error)) {
            if (!error.empty()) return error;
            const auto parsed = parse_duration(*timeout);
            if (!parsed) return "bad --timeout value " + quoted_arg(*timeout) + " (like 500ms, 10s, 2m)";
            out.timeout = *parsed;
        } else {
            return "unknown option " + quoted_arg(arg);
        }
    }
    if (out.socket && out.config_path) return "-s and -c exclude each other";
    if (i >= args.size()) return "no command given";
    const auto command = control::parse_command(args[i]);
    if (!command) return "unknown command " + quoted_arg(args[i]);
    out.request.command = *command;
    if (auto error = parse_command_arguments(args, i + 1, out); !error.empty()) return error;
    if (!out.no_wait && (*command == control::Command::start || *command == control::Command::stop ||
                         *command == control::Command::restart))
        out.request.wait = std::min(out.timeout, control::max_wait);
    // The same check foster makes: names, counts, lengths.
    const auto checked = control::parse_request(control::format_request(out.request));
    if (!checked.request) return checked.error;
    return {};
}

}  // namespace foster::ctl
