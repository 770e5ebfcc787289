// full_build.hpp — the static `foster` hands the service runner over to the
// full build, the one that can load libsystemd.
//
// Measured (docs/DESIGN.md, "Linking"): a foster linked against the shared
// glibc starts 18 % slower than catatonit and holds 2 MiB of RSS idle, where
// the static foster starts faster than every peer in under 1 MiB. A static
// binary cannot dlopen libsystemd, though. So foster is built twice:
// - `foster` (installed in bin/): static; the container entrypoint runs here;
// - the full build (installed as libexec/foster/foster): glibc shared,
//   libsystemd.so.0 dlopen()ed when needed (systemd.cpp).
// The static foster execve()s the full build, same pid, argv and environment,
// before it has changed anything, when the service runner is asked for (-c,
// --check included) or its stderr is the journal. Without a full build beside it (an image that
// holds only the static file) it goes on by itself, without systemd support.
#pragma once

#include <string>
#include <vector>

#include "options.hpp"

namespace foster::full_build {

// Where the full build may be, in the order tried: beside this executable in
// a build tree (DIR/libexec/foster), in an installed tree relative to
// bin/ (DIR/../libexec/foster/foster), and at the libexec path of the
// installation prefix configured at build time.
std::vector<std::string> candidates(const std::string& self_dir);

// Whether this run needs what only the full build has: the service runner
// (systemd notification, journal outputs) or a stderr that is the journal.
bool wanted(const Options& options);

// The first candidate that is an executable file, or "".
std::string find();

// Runs the full build in place of this process (execve, argv and envp as
// given); returns only when none could be executed.
void exec(char** argv, char** envp);

}  // namespace foster::full_build
