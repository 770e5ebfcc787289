// entrypoint.hpp — `foster [OPTIONS] -- PROGRAM [ARGS...]`, the tini-style mode.
#pragma once

#include "inheritance.hpp"
#include "options.hpp"

namespace foster {

// Runs PROGRAM until it exits and every process it left behind is gone;
// returns foster's exit status.
int run_entrypoint(const Options& options, Inheritance& inheritance);

}  // namespace foster
