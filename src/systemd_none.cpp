// systemd_none.cpp — systemd.hpp for `foster-static`: no libsystemd.
//
// A static binary cannot dlopen libsystemd safely (glibc's static dlopen
// needs the exact glibc it was linked with at run time), and Debian ships no
// static libsystemd; so this build says plainly that it has no systemd
// support and every caller falls back to what works without it.
#include <cerrno>

#include "systemd.hpp"

namespace foster::systemd {

bool available() { return false; }

const std::string& unavailable_reason() {
    static const std::string reason = "this build (foster-static) has no systemd support";
    return reason;
}

const char* build_description() { return "static build: no systemd support"; }

int notify(std::string_view) { return -ENOSYS; }

std::optional<std::chrono::microseconds> watchdog_interval() { return std::nullopt; }

Fd journal_stream(const std::string&, int) {
    errno = ENOSYS;
    return Fd{};
}

int listen_fds_with_names(std::vector<std::string>& names) {
    names.clear();
    return -ENOSYS;
}

bool journal_send(const std::vector<std::string>&) { return false; }

}  // namespace foster::systemd
