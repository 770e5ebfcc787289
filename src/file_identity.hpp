// file_identity.hpp — foster touching a service's files with the service's
// rights, not its own (docs/SECURITY.md, "Output files foster writes").
//
// While an AsServiceUser lives, the kernel checks every path foster opens,
// creates or renames as if the service's user did it: setfsuid/setfsgid and
// the user's supplementary groups. When the file-system uid is not 0 the
// kernel also drops the file capabilities (CAP_DAC_OVERRIDE, CAP_CHOWN,
// CAP_FOWNER, ...) from the effective set, and gives them back when it is 0
// again (capabilities(7), "Effect of user ID changes on capabilities"). So
// a root foster can neither follow a link nor write a file the service's
// user could not, and what it creates belongs to that user, as if the
// service had opened it itself. foster has one thread, so nothing else runs
// with the borrowed identity; the destructor gives foster's back.
#pragma once

#include <sys/types.h>

#include <optional>
#include <vector>

#include "config.hpp"

namespace foster {

class AsServiceUser {
public:
    // No credentials, or foster not root: nothing changes (a service of
    // another user cannot exist then). `umask`: the service's, for files
    // created meanwhile.
    AsServiceUser(const std::optional<Credentials>& credentials, std::optional<mode_t> umask);
    ~AsServiceUser();
    AsServiceUser(const AsServiceUser&) = delete;
    AsServiceUser& operator=(const AsServiceUser&) = delete;

    // false when the switch failed (then do nothing: errno says why).
    [[nodiscard]] bool ok() const { return ok_; }

private:
    bool switched_ = false;
    bool ok_ = true;
    std::vector<gid_t> saved_groups_;
    std::optional<mode_t> saved_umask_;
};

}  // namespace foster
