#include "accounts.hpp"

#include <grp.h>
#include <pwd.h>

#include <cerrno>
#include <cstddef>

namespace foster {

namespace {

// Entries larger than this are treated as lookup failures rather than grown
// without bound.
constexpr std::size_t max_buffer = std::size_t{1} << 20;

// Calls a getpw*_r / getgr*_r style `lookup(buffer, size, &result)`, growing
// the buffer while it reports ERANGE. Returns true when an entry was found.
template <typename Lookup>
bool lookup_with_buffer(std::vector<char>& buffer, Lookup lookup) {
    buffer.resize(1024);
    for (;;) {
        const int rc = lookup(buffer.data(), buffer.size());
        if (rc != ERANGE) return rc == 0;
        if (buffer.size() >= max_buffer) return false;
        buffer.resize(buffer.size() * 2);
    }
}

UserEntry to_entry(const passwd& pw) {
    return UserEntry{pw.pw_uid, pw.pw_gid, pw.pw_name ? pw.pw_name : ""};
}

}  // namespace

std::optional<UserEntry> find_user(const std::string& name) {
    prepare_account_lookups();
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buffer;
    const bool ok = lookup_with_buffer(buffer, [&](char* buf, std::size_t size) {
        return ::getpwnam_r(name.c_str(), &pw, buf, size, &found);
    });
    if (!ok || found == nullptr) return std::nullopt;
    return to_entry(pw);
}

std::optional<UserEntry> find_user(uid_t uid) {
    prepare_account_lookups();
    passwd pw{};
    passwd* found = nullptr;
    std::vector<char> buffer;
    const bool ok = lookup_with_buffer(buffer, [&](char* buf, std::size_t size) {
        return ::getpwuid_r(uid, &pw, buf, size, &found);
    });
    if (!ok || found == nullptr) return std::nullopt;
    return to_entry(pw);
}

std::optional<gid_t> find_group(const std::string& name) {
    prepare_account_lookups();
    group gr{};
    group* found = nullptr;
    std::vector<char> buffer;
    const bool ok = lookup_with_buffer(buffer, [&](char* buf, std::size_t size) {
        return ::getgrnam_r(name.c_str(), &gr, buf, size, &found);
    });
    if (!ok || found == nullptr) return std::nullopt;
    return gr.gr_gid;
}

std::vector<gid_t> supplementary_groups(const std::string& user_name, gid_t primary_gid) {
    prepare_account_lookups();
    // getgrouplist reports the size it needs when the first guess is short.
    std::vector<gid_t> groups(32);
    for (int attempt = 0; attempt < 4; ++attempt) {
        int count = static_cast<int>(groups.size());
        if (::getgrouplist(user_name.c_str(), primary_gid, groups.data(), &count) >= 0) {
            groups.resize(static_cast<std::size_t>(count));
            return groups;
        }
        if (count <= static_cast<int>(groups.size()) || count > 65536) break;
        groups.resize(static_cast<std::size_t>(count));
    }
    return {primary_gid};
}

}  // namespace foster
