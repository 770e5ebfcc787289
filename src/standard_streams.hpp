// standard_streams.hpp — a service runner started with stdin, stdout or
// stderr closed.
//
// A closed fd 0, 1 or 2 is the lowest free number, so the next descriptor
// foster opens would land there: its log lines would go into a control
// connection or a service's pipe, and a service's stdio set-up would find its
// source already on the slot (dup3 of a descriptor onto itself fails, and
// every start of that service with it). The service runner holds /dev/null
// on each closed slot instead, close-on-exec: foster's own writes there go
// nowhere, and a service that inherits the slot still finds it closed, as
// foster did.
#pragma once

#include <vector>

#include "fd.hpp"

namespace foster {

// Opens /dev/null on each of fd 0, 1, 2 that is closed; keep what it returns
// for as long as foster runs.
std::vector<Fd> hold_closed_standard_streams();

}  // namespace foster
