// fosterctl_options.hpp — fosterctl's command line, parsed into a plain
// struct (fosterctl(1)).
//
// Parsing is pure (no output, no exit, no connection), so the fuzz target
// tests/fuzz/fuzz_parse_ctl_args.cpp can call it as fosterctl does.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control_protocol.hpp"
#include "duration.hpp"

namespace foster::ctl {

// What the command line asks for.
struct Invocation {
    std::optional<std::string> socket;       // -s
    std::optional<std::string> config_path;  // -c
    Millis timeout{30'000};                  // --timeout
    control::Request request;
    bool json = false;     // status --json, logs --json
    bool no_wait = false;  // start/stop/restart --no-wait
    bool quiet = false;    // check -q
};

// The whole command line, args[0] the program name. Returns an error text
// (empty when the line is good); `help`/`version` set when asked.
std::string parse_command_line(const std::vector<std::string>& args, Invocation& out, bool& help, bool& version);

}  // namespace foster::ctl
