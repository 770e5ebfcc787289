// limits.hpp — per-service process settings applied in the child before
// exec: resource limits (`limits`), `nice`, `oom_score_adjust` and
// `no_new_privileges`. Parsing of limit names and values lives here so the
// config loader only walks the TOML; the child side is in spawn_child.cpp.
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace foster {

// One setrlimit: soft <= hard; RLIM_INFINITY for "unlimited".
struct ResourceLimit {
    int resource = 0;  // RLIMIT_*
    std::uint64_t soft = 0;
    std::uint64_t hard = 0;
    bool operator==(const ResourceLimit&) const = default;
};

struct ProcessSettings {
    std::vector<ResourceLimit> limits;       // in file order, one per resource
    std::optional<int> nice;                 // -20..19
    std::optional<int> oom_score_adjust;     // -1000..1000
    bool no_new_privileges = false;          // prctl(PR_SET_NO_NEW_PRIVS)
    bool operator==(const ProcessSettings&) const = default;
};

// What a limit's value counts, which decides the strings it accepts.
enum class LimitUnit {
    count,    // a plain number: nofile, nproc, locks, sigpending, nice, rtprio
    bytes,    // "64MiB", "1G", ...: as, core, data, fsize, memlock, msgqueue, rss, stack
    seconds,  // a duration, "1h": cpu
    micros,   // a plain number of microseconds: rttime
};

// The RLIMIT_* for a key of `limits` (systemd's Limit*= names, lower case):
// cpu, fsize, data, stack, core, rss, nproc, nofile, memlock, as, locks,
// sigpending, msgqueue, nice, rtprio, rttime.
std::optional<int> limit_resource(std::string_view name);
LimitUnit limit_unit(int resource);
// "RLIMIT_NOFILE", for messages.
std::string limit_constant_name(int resource);
// The names accepted, for the "unknown limit" message: "as, core, cpu, ...".
std::string limit_names();

// A string value: "unlimited" (or "infinity") for every limit; for bytes a
// number with an optional binary suffix (K, M, G, T, with or without "iB"/"B":
// 1024-based, as systemd); for seconds a duration ("90s", "1h", rounded up
// to whole seconds) or digits; for counts digits. Nothing for anything else.
std::optional<std::uint64_t> parse_limit_text(std::string_view text, LimitUnit unit);

}  // namespace foster
