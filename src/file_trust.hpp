// file_trust.hpp — the files a root foster refuses to act on: a config file
// or a control socket directory that someone other than root (or foster's
// own effective uid) could change. docs/SECURITY.md, "Files foster refuses".
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "config.hpp"

namespace foster {

// Why `path` (a file, or a directory with `directory`) must not be trusted by
// a process whose effective uid is `euid`, or nullopt if it may be. Every
// symlink on the way must be owned by root or `euid`; the file it leads to
// too, and it must not be writable by its group or by others. A path that
// does not exist is not refused here: whoever opens it reports that. A
// directory with the sticky bit may be writable by others.
std::optional<std::string> why_untrusted(const std::string& path, uid_t euid, bool directory = false);

// load_config, after refusing an untrusted file when this process runs as
// root (for any other user, their own files are theirs to trust). The
// refusal is the load's one error, so start, --check and reload all report it
// as they report a config error.
LoadResult load_trusted_config(const std::string& path, const LoadOptions& options = {});

// Why a root foster must not create its control socket at `socket_path`: its
// directory is untrusted. nullopt when it may, or when not root.
std::optional<std::string> why_untrusted_socket_directory(const std::string& socket_path);

}  // namespace foster
