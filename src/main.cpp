// main.cpp — foster's entry point: capture what was inherited, parse the
// command line, and hand over to the mode asked for.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "entrypoint.hpp"
#include "inheritance.hpp"
#include "log.hpp"
#include "options.hpp"

int main(int argc, char** argv, char** envp) {
    using namespace foster;
    // First, before anything opens a descriptor or touches a signal.
    Inheritance inheritance = capture_inheritance(envp);

    const std::vector<std::string> args(argv, argv + argc);
    ParsedOptions parsed = parse_options(args);
    if (!parsed.options) {
        log::fatal(parsed.error);
        std::fputs("Try 'foster --help'.\n", stderr);
        return 2;
    }
    const Options& options = *parsed.options;
    if (options.show_help) {
        std::fputs(usage_text(), stdout);
        return 0;
    }
    if (options.show_version) {
        std::puts("foster " FOSTER_VERSION);
        return 0;
    }
    log::init(options.verbosity);
    if (options.config_path) {
        log::fatal("service mode (-c) is not available in this build yet");
        return 2;
    }
    return run_entrypoint(options, inheritance);
}
