// accounts.hpp — users and groups by name or number, from the system databases.
//
// The config loader resolves `user` and `group` when the file is loaded, so a
// name that does not exist is a config error with a line number, and the
// child process only applies numbers (it must not call into NSS after fork).
// Each lookup returns nothing when there is no such entry or the lookup failed.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace foster {

// What foster needs from a passwd entry.
struct UserEntry {
    uid_t uid = 0;
    gid_t primary_gid = 0;  // the group a service runs with when `group` is not given
    std::string name;       // for getgrouplist, which works on names
};

// Called before every lookup below. The static builds read the local files
// only (accounts_static.cpp says why); the full build uses NSS as configured
// (accounts_shared.cpp).
void prepare_account_lookups();

std::optional<UserEntry> find_user(const std::string& name);
std::optional<UserEntry> find_user(uid_t uid);
std::optional<gid_t> find_group(const std::string& name);

// The groups `user_name` is a member of, with `primary_gid` among them, as
// initgroups(3) would set them. Falls back to {primary_gid} alone when the
// list cannot be read.
std::vector<gid_t> supplementary_groups(const std::string& user_name, gid_t primary_gid);

}  // namespace foster
