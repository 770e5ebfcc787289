// systemd.hpp — the few libsystemd calls foster makes, and whether it can.
//
// foster talks to systemd through libsystemd (sd-daemon(3), sd-journal(3)),
// never by re-implementing its protocols. Two builds provide this interface:
// - systemd.cpp (the installed `foster`): libsystemd.so.0 is dlopen()ed the
//   first time one of these functions is called, so a container entrypoint,
//   which never calls them, pays nothing for it (no mapping, no relocation);
// - systemd_none.cpp (`foster-static`): every call reports that this build has
//   no systemd support.
// Callers ask available() first and say once, in their own words, what they
// do without it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fd.hpp"

namespace foster::systemd {

// Loads libsystemd on the first call; true when every function below works.
bool available();
// Why available() is false, for a log line ("libsystemd.so.0: cannot open
// shared object file", "this build (foster-static) has no systemd support").
const std::string& unavailable_reason();
// What `foster -V` says about this build.
const char* build_description();

// sd_notify(0, state): one datagram to $NOTIFY_SOCKET. Returns sd_notify's
// result: > 0 sent, 0 no NOTIFY_SOCKET, < 0 -errno.
int notify(std::string_view state);

// sd_watchdog_enabled(0, ...): the interval systemd expects pings within,
// when WatchdogSec= applies to this very process; nullopt otherwise.
std::optional<std::chrono::microseconds> watchdog_interval();

// sd_journal_stream_fd(identifier, priority, level_prefix = 1): a stream
// socket whose every line becomes a journal entry; invalid Fd and errno set
// on failure. The descriptor is close-on-exec (libsystemd opens it so).
Fd journal_stream(const std::string& identifier, int priority);

// sd_listen_fds_with_names(0, ...): how many sockets systemd passed to this
// very process (LISTEN_PID naming it), at fd 3, 4, ..., with their names
// (FileDescriptorName=, "unknown" when not set) in `names`; 0 when none, or
// -errno. The descriptors are made close-on-exec.
int listen_fds_with_names(std::vector<std::string>& names);

// sd_journal_sendv with the given "FIELD=value" strings. Returns false when
// the journal refused or could not be reached.
bool journal_send(const std::vector<std::string>& fields);

}  // namespace foster::systemd
