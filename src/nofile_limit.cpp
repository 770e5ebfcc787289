// nofile_limit.cpp — see nofile_limit.hpp.
#include "nofile_limit.hpp"

#include <sys/resource.h>

namespace foster {

namespace {

std::optional<ResourceLimit>& given() {
    static std::optional<ResourceLimit> limit;
    return limit;
}

}  // namespace

void raise_nofile_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
    const ResourceLimit was{RLIMIT_NOFILE, limit.rlim_cur, limit.rlim_max};
    limit.rlim_cur = limit.rlim_max;
    // Refused only if the hard limit is above fs.nr_open (it cannot be set
    // so, but may have been inherited): foster keeps what it had.
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    given() = was;
}

std::optional<ResourceLimit> given_nofile_limit() { return given(); }

}  // namespace foster
