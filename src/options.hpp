// options.hpp — foster's command line, parsed into a plain struct.
//
// Parsing is pure (no output, no exit) so every accepted and refused spelling
// is unit-tested; main() decides what to print.
#pragma once

#include <array>
#include <csignal>
#include <optional>
#include <string>
#include <vector>

#include "duration.hpp"
#include "log.hpp"

namespace foster {

struct Options {
    std::optional<std::string> config_path;  // -c FILE
    bool check_only = false;                 // --check
    bool signal_group = false;               // -g
    // -r FROM:TO. signal_rewrite[FROM] is what foster sends on receiving FROM;
    // 0 drops it. Identity unless rewritten.
    std::array<int, NSIG> signal_rewrite{};
    std::vector<int> success_exits;          // -e CODE, each 0..255
    std::optional<int> parent_death_signal;  // -p SIG
    Millis grace{3000};                      // --grace
    log::Level verbosity = log::Level::normal;
    bool show_version = false;
    bool show_help = false;
    std::vector<std::string> program;  // PROGRAM [ARGS...], empty in pure service mode

    Options();
};

struct ParsedOptions {
    std::optional<Options> options;
    std::string error;  // set when options is empty: what was wrong, for "foster: ERROR"
};

// argv[0] is skipped. PROGRAM starts after "--" or at the first argument that
// is not an option (as dumb-init and catatonit allow).
ParsedOptions parse_options(const std::vector<std::string>& args);

// The text of `foster --help`.
const char* usage_text();

}  // namespace foster
