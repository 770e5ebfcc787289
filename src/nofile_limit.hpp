// nofile_limit.hpp — foster's own RLIMIT_NOFILE, raised; its children's, as given.
//
// With thousands of services foster holds a descriptor per start in flight,
// per output pipe and per control connection: the usual soft limit of 1024
// would refuse the 1025th. So the service runner raises its soft limit to the
// hard limit at start-up, as systemd does, and every child it spawns (service,
// hook, probe, PROGRAM) gets the limit foster was given back before its exec
// (unless the service's `limits` set `nofile` itself): a program that sizes a
// table by its soft limit, or uses select(), sees what it would have seen
// without foster.
#pragma once

#include <optional>

#include "limits.hpp"

namespace foster {

// Raises the soft limit to the hard one and remembers the limit as it was.
// Nothing to do (and nothing to give back) when they are already equal.
void raise_nofile_limit();

// The limit to give children back: set once raise_nofile_limit() raised it.
std::optional<ResourceLimit> given_nofile_limit();

}  // namespace foster
