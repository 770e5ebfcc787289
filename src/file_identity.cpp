#include "file_identity.hpp"

#include <grp.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace foster {

namespace {

// setfsuid reports no error; asking with an impossible id returns the
// current one, which shows whether the change took.
uid_t current_fsuid() { return static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1))); }
gid_t current_fsgid() { return static_cast<gid_t>(setfsgid(static_cast<gid_t>(-1))); }

}  // namespace

AsServiceUser::AsServiceUser(const std::optional<Credentials>& credentials, std::optional<mode_t> umask) {
    if (umask) saved_umask_ = ::umask(*umask);
    if (!credentials || geteuid() != 0) return;
    const int count = getgroups(0, nullptr);
    saved_groups_.resize(count > 0 ? static_cast<std::size_t>(count) : 0);
    if (count > 0 && getgroups(count, saved_groups_.data()) != count) saved_groups_.clear();
    switched_ = true;
    if (setgroups(credentials->groups.size(), credentials->groups.data()) != 0) {
        ok_ = false;
        return;
    }
    setfsgid(credentials->gid);
    setfsuid(credentials->uid);
    if (current_fsgid() != credentials->gid || current_fsuid() != credentials->uid) {
        ok_ = false;
        errno = EPERM;
    }
}

AsServiceUser::~AsServiceUser() {
    const int saved_errno = errno;  // the caller reports what failed, not this
    if (switched_) {
        setfsuid(geteuid());
        setfsgid(getegid());
        setgroups(saved_groups_.size(), saved_groups_.data());
    }
    if (saved_umask_) ::umask(*saved_umask_);
    errno = saved_errno;
}

}  // namespace foster
