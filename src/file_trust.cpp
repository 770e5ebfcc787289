// file_trust.cpp — see file_trust.hpp.
#include "file_trust.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

namespace foster {

namespace {

// Linux's own limit on symlinks followed in one lookup.
constexpr int max_symlink_hops = 40;

std::string octal_mode(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

bool trusted_owner(uid_t owner, uid_t euid) { return owner == 0 || owner == euid; }

std::string owner_text(uid_t euid) {
    return euid == 0 ? "root" : "root or uid " + std::to_string(euid);
}

std::string directory_of(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

std::optional<std::string> read_link(const std::string& path) {
    std::string target(4096, '\0');
    const ssize_t n = readlink(path.c_str(), target.data(), target.size());
    if (n < 0 || static_cast<std::size_t>(n) == target.size()) return std::nullopt;
    target.resize(static_cast<std::size_t>(n));
    if (target.front() == '/') return target;
    return directory_of(path) + "/" + target;
}

}  // namespace

std::optional<std::string> why_untrusted(const std::string& path, uid_t euid, bool directory) {
    std::string current = path;
    for (int hop = 0; hop <= max_symlink_hops; ++hop) {
        struct stat st {};
        if (lstat(current.c_str(), &st) != 0) return std::nullopt;
        const std::string named = current == path ? "" : " (reached through " + path + ")";
        if (S_ISLNK(st.st_mode)) {
            // The link's owner can point it anywhere: it must be trusted
            // like the file.
            if (!trusted_owner(st.st_uid, euid))
                return "symlink " + current + " is owned by uid " + std::to_string(st.st_uid) + ", not " +
                       owner_text(euid);
            const auto next = read_link(current);
            if (!next) return std::nullopt;  // unreadable: the open reports it
            current = *next;
            continue;
        }
        const char* what = directory ? "directory " : "";
        if (!trusted_owner(st.st_uid, euid))
            return what + current + named + " is owned by uid " + std::to_string(st.st_uid) + ", not " +
                   owner_text(euid);
        // A sticky directory (/tmp, a bare tmpfs /run) lets nobody else
        // remove or rename what root put there: the threat to a socket.
        if (directory && (st.st_mode & S_ISVTX) != 0) return std::nullopt;
        if ((st.st_mode & S_IWOTH) != 0)
            return what + current + named + " is writable by others (mode " + octal_mode(st.st_mode) + ")";
        if ((st.st_mode & S_IWGRP) != 0)
            return what + current + named + " is writable by its group (mode " + octal_mode(st.st_mode) + ")";
        return std::nullopt;
    }
    return std::nullopt;  // a loop: the open reports ELOOP
}

LoadResult load_trusted_config(const std::string& path, const LoadOptions& options) {
    const uid_t euid = geteuid();
    if (euid == 0) {
        if (auto why = why_untrusted(path, euid))
            return {std::nullopt,
                    {ConfigError{path, 0, 0, "not trusted: " + *why + "; foster runs as root and reads only a config "
                                                                        "that only root can change"}}};
    }
    return load_config(path, options);
}

std::optional<std::string> why_untrusted_socket_directory(const std::string& socket_path) {
    const uid_t euid = geteuid();
    if (euid != 0) return std::nullopt;
    if (auto why = why_untrusted(directory_of(socket_path), euid, true))
        return "control socket " + socket_path + " not trusted: " + *why +
               "; foster runs as root and creates its control socket only where only root can change it";
    return std::nullopt;
}

}  // namespace foster
