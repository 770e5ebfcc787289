#include "options.hpp"

#include <cstdlib>
#include <string_view>

#include "quoted_arg.hpp"
#include "signal_names.hpp"

namespace foster {

namespace {

// One option's definition: its spellings and whether it takes a value.
struct OptionSpec {
    char short_name;  // 0: long only
    const char* long_name;
    bool takes_value;
};

constexpr OptionSpec option_specs[] = {
    {'c', "config", true},         {0, "check", false},           {'g', "signal-group", false},
    {'r', "rewrite", true},        {'e', "success-exit", true},   {'p', "parent-death-signal", true},
    {0, "grace", true},            {'v', "verbose", false},       {'q', "quiet", false},
    {'V', "version", false},       {'h', "help", false},
};

const OptionSpec* find_short(char c) {
    for (const auto& spec : option_specs)
        if (spec.short_name == c) return &spec;
    return nullptr;
}

const OptionSpec* find_long(std::string_view name) {
    for (const auto& spec : option_specs)
        if (name == spec.long_name) return &spec;
    return nullptr;
}

std::optional<int> parse_exit_code(std::string_view text) {
    if (text.empty() || text.size() > 3) return std::nullopt;
    int n = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + (c - '0');
    }
    if (n > 255) return std::nullopt;
    return n;
}

// Applies one option with its value; returns an error text or "".
std::string apply(Options& o, const OptionSpec& spec, const std::string& value) {
    const std::string_view name = spec.long_name;
    if (name == "config") {
        if (value.empty()) return "-c needs a file name";
        o.config_path = value;
    } else if (name == "check") {
        o.check_only = true;
    } else if (name == "signal-group") {
        o.signal_group = true;
    } else if (name == "rewrite") {
        const auto colon = value.find(':');
        if (colon == std::string::npos) return "-r wants FROM:TO, got " + quoted_arg(value);
        const auto from = parse_signal(std::string_view(value).substr(0, colon));
        const auto to = parse_signal(std::string_view(value).substr(colon + 1), true);
        if (!from) return "-r: unknown signal " + quoted_arg(value.substr(0, colon));
        if (!to) return "-r: unknown signal " + quoted_arg(value.substr(colon + 1));
        o.signal_rewrite[static_cast<std::size_t>(*from)] = *to;
    } else if (name == "success-exit") {
        const auto code = parse_exit_code(value);
        if (!code) return "-e wants an exit code from 0 to 255, got " + quoted_arg(value);
        o.success_exits.push_back(*code);
    } else if (name == "parent-death-signal") {
        const auto sig = parse_signal(value);
        if (!sig) return "-p: unknown signal " + quoted_arg(value);
        o.parent_death_signal = *sig;
    } else if (name == "grace") {
        const auto d = parse_duration(value);
        if (!d) return "--grace wants a duration such as 3s or 500ms, got " + quoted_arg(value);
        o.grace = *d;
    } else if (name == "verbose") {
        o.verbosity = log::Level::verbose;
    } else if (name == "quiet") {
        o.verbosity = log::Level::quiet;
    } else if (name == "version") {
        o.show_version = true;
    } else if (name == "help") {
        o.show_help = true;
    }
    return "";
}

// The checks that concern the options together rather than one at a time.
std::string validate(const Options& o) {
    if (o.show_help || o.show_version) return "";
    if (o.check_only && !o.config_path) return "--check needs -c FILE";
    if (!o.config_path && o.program.empty())
        return "nothing to run: give -c FILE, or -- PROGRAM [ARGS...]";
    return "";
}

}  // namespace

Options::Options() {
    for (std::size_t sig = 0; sig < signal_rewrite.size(); ++sig)
        signal_rewrite[sig] = static_cast<int>(sig);
}

ParsedOptions parse_options(const std::vector<std::string>& args) {
    Options o;
    std::size_t i = 1;
    auto fail = [](std::string text) { return ParsedOptions{std::nullopt, std::move(text)}; };
    for (; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--") {
            ++i;
            break;
        }
        if (arg.size() < 2 || arg[0] != '-') break;  // PROGRAM begins here
        if (arg[1] == '-') {
            const auto eq = arg.find('=');
            const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
            const OptionSpec* spec = find_long(name);
            if (spec == nullptr) return fail("unknown option " + quoted_arg("--" + name));
            std::string value;
            if (spec->takes_value) {
                if (eq != std::string::npos) value = arg.substr(eq + 1);
                else if (i + 1 < args.size()) value = args[++i];
                else return fail("option " + quoted_arg("--" + name) + " needs a value");
            } else if (eq != std::string::npos) {
                return fail("option " + quoted_arg("--" + name) + " takes no value");
            }
            if (auto err = apply(o, *spec, value); !err.empty()) return fail(err);
            continue;
        }
        // A cluster of short options: "-gv", "-e143", "-e 143".
        for (std::size_t k = 1; k < arg.size(); ++k) {
            const OptionSpec* spec = find_short(arg[k]);
            if (spec == nullptr) return fail("unknown option " + quoted_arg(std::string("-") + arg[k]));
            std::string value;
            if (spec->takes_value) {
                if (k + 1 < arg.size()) value = arg.substr(k + 1);
                else if (i + 1 < args.size()) value = args[++i];
                else return fail("option " + quoted_arg(std::string("-") + arg[k]) + " needs a value");
                k = arg.size();
            }
            if (auto err = apply(o, *spec, value); !err.empty()) return fail(err);
        }
    }
    o.program.assign(args.begin() + static_cast<std::ptrdiff_t>(std::min(i, args.size())), args.end());
    if (auto err = validate(o); !err.empty()) return fail(err);
    return ParsedOptions{std::move(o), ""};
}

const char* usage_text() {
    return "Usage: foster [OPTIONS] -- PROGRAM [ARGS...]   run PROGRAM as a child, reap zombies, forward signals\n"
           "       foster [OPTIONS] -c FILE                  run the services of FILE\n"
           "       foster [OPTIONS] -c FILE -- PROGRAM ...   services first, then PROGRAM\n"
           "\n"
           "Options:\n"
           "  -c, --config FILE              services file (TOML)\n"
           "      --check                    validate FILE, print every problem, exit 0 or 2\n"
           "  -g, --signal-group             forward signals to PROGRAM's process group\n"
           "  -r, --rewrite FROM:TO          forward signal FROM as TO (TO = 0 drops it); repeatable\n"
           "  -e, --success-exit CODE        PROGRAM exiting with CODE counts as 0; repeatable\n"
           "  -p, --parent-death-signal SIG  ask the kernel for SIG when foster's parent dies\n"
           "      --grace DURATION           time leftovers get between SIGTERM and SIGKILL (default 3s)\n"
           "  -v, --verbose                  more of foster's own log on stderr\n"
           "  -q, --quiet                    only the errors that make foster exit\n"
           "  -V, --version                  print the version and exit\n"
           "  -h, --help                     print this help and exit\n"
           "\n"
           "Everything else (modes, signals, exit status, the services file): man foster,\n"
           "man foster.toml\n";
}

}  // namespace foster
