// main.cpp — foster's entry point: capture what was inherited, parse the
// command line, and hand over to the mode asked for.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "entrypoint.hpp"
#include "full_build.hpp"
#include "inheritance.hpp"
#include "log.hpp"
#include "options.hpp"
#include "signals.hpp"
#include "supervisor.hpp"
#include "systemd.hpp"

int main(int argc, char** argv, char** envp) {
    using namespace foster;
    const std::vector<std::string> args(argv, argv + argc);
    ParsedOptions parsed = parse_options(args);  // pure: opens nothing, changes nothing
#if FOSTER_HANDS_OVER_TO_FULL_BUILD
    // Before anything has changed, so the full build inherits exactly what
    // this process was given (full_build.hpp).
    if (parsed.options && full_build::wanted(*parsed.options)) full_build::exec(argv, envp);
#endif
    // Before anything opens a descriptor or touches a signal.
    Inheritance inheritance = capture_inheritance(envp);
    // Services start with every signal foster found ignored reset to its
    // default, so the service runner asks about each one; the entrypoint
    // needs SIGCHLD's alone (signals.hpp).
    if (parsed.options && parsed.options->config_path) inheritance.signals.ignored = ignored_signals();
    if (!parsed.options) {
        log::fatal(parsed.error);
        log::finish(std::chrono::milliseconds(200));
        std::fputs("Usage: foster [OPTIONS] -- PROGRAM [ARGS...]\n"
                   "       foster [OPTIONS] -c FILE [-- PROGRAM [ARGS...]]\n"
                   "Try 'foster --help' for more.\n",
                   stderr);
        return 2;
    }
    const Options& options = *parsed.options;
    if (options.show_help) {
        std::fputs(usage_text(), stdout);
        return 0;
    }
    if (options.show_version) {
#if FOSTER_HANDS_OVER_TO_FULL_BUILD
        // Canonical, so a user sees /usr/libexec/foster/foster rather than
        // the /usr/bin/../libexec/... it was found through.
        std::string full = full_build::find();
        if (char* canonical = full.empty() ? nullptr : ::realpath(full.c_str(), nullptr)) {
            full = canonical;
            std::free(canonical);
        }
        std::printf("foster %s (static build; the service runner and systemd support run %s)\n", FOSTER_VERSION,
                    full.empty() ? "the full build, which is not installed here" : full.c_str());
#else
        std::printf("foster %s (%s)\n", FOSTER_VERSION, systemd::build_description());
#endif
        return 0;
    }
    log::init(options.verbosity);
    // Before any child exists, so the signal is never missed; it is blocked
    // like every other and forwarded to PROGRAM (or ignored, with services).
    if (options.parent_death_signal && !request_parent_death_signal(*options.parent_death_signal))
        log::error("cannot set the parent death signal: " + log::errno_text(errno));
    const int code = options.config_path ? run_services(options, inheritance) : run_entrypoint(options, inheritance);
    // Lines a slow stderr has not taken yet get a moment; a stuck one keeps them.
    log::finish(std::chrono::seconds(1));
    return code;
}
