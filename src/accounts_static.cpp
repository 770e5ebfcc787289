// accounts_static.cpp — prepare_account_lookups() for the static builds
// (foster, foster-static, a static fosterctl): users and groups come from the
// local files only.
//
// A static glibc still follows /etc/nsswitch.conf, and for any source but
// "files" (Debian's default is "files systemd") it dlopen()s a shared NSS
// module, which drags in the shared libc beside the static one. With
// glibc 2.36 that crashes (SIGSEGV in libnss_systemd) the first time a name is
// not in /etc/passwd — an unknown `user` in a config, or a numeric one without
// an entry. Container images, where the static builds run, keep their
// accounts in /etc/passwd and /etc/group; the service runner on a host runs
// the full build (full_build.hpp), which has every NSS module.
#include <nss.h>

#include "accounts.hpp"

namespace foster {

void prepare_account_lookups() {
    // Once, before the first lookup: configuring NSS reads nsswitch.conf,
    // which the entrypoint, never looking anyone up, should not pay for.
    static const bool done = [] {
        __nss_configure_lookup("passwd", "files");
        __nss_configure_lookup("group", "files");
        __nss_configure_lookup("initgroups", "files");
        return true;
    }();
    (void)done;
}

}  // namespace foster
