// static_nss.cpp — linked into the static binaries only (foster-static, and
// fosterctl when FOSTER_STATIC): user and group lookups read the local files.
//
// A static glibc still follows /etc/nsswitch.conf, and for any source but
// "files" (Debian's default is "files systemd") it dlopen()s a shared NSS
// module, which drags in the shared libc beside the static one. With
// glibc 2.36 that crashes (SIGSEGV in libnss_systemd) the first time a name is
// not in /etc/passwd — an unknown `user` in a config, or a numeric one without
// an entry. Container images, where the static build runs, keep their
// accounts in /etc/passwd and /etc/group; a host that needs LDAP or
// systemd-homed users runs the dynamic foster, which has every NSS module.
#include <nss.h>

namespace {

[[gnu::constructor]] void read_accounts_from_files_only() {
    // Before main(): no lookup has happened yet and there is no other thread.
    __nss_configure_lookup("passwd", "files");
    __nss_configure_lookup("group", "files");
    __nss_configure_lookup("initgroups", "files");
}

}  // namespace
