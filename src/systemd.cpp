// systemd.cpp — systemd.hpp for the installed `foster`: libsystemd.so.0,
// loaded the first time it is needed.
//
// Why dlopen rather than linking: a linked libsystemd (and the five
// libraries it needs) is mapped and relocated at every exec, which would
// make `foster -- app` slower to start than the inits it replaces; loaded on
// demand it costs only the fosters that talk to systemd. This is how systemd
// itself loads its optional libraries, and like systemd we declare the
// dependency in an ELF `.note.dlopen` note so packaging tools can see it.
#include "systemd.hpp"

#include <dlfcn.h>
#include <sys/uio.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

namespace foster::systemd {

namespace {

// https://systemd.io/ELF_DLOPEN_METADATA/: a note owned by "FDO", of type
// 0x407c0c0a, whose description is a JSON array of the libraries dlopen()ed.
constexpr char dlopen_json[] =
    R"([{"feature":"systemd","description":"Type=notify, watchdog and journal support",)"
    R"("priority":"recommended","soname":["libsystemd.so.0"]}])";

struct DlopenNote {
    std::uint32_t name_size = 4;
    std::uint32_t description_size = sizeof(dlopen_json);
    std::uint32_t type = 0x407c0c0a;
    char name[4] = {'F', 'D', 'O', '\0'};
    char description[(sizeof(dlopen_json) + 3) / 4 * 4] = {};
};

constexpr DlopenNote make_note() {
    DlopenNote note;
    for (std::size_t i = 0; i < sizeof(dlopen_json); ++i) note.description[i] = dlopen_json[i];
    return note;
}

[[gnu::section(".note.dlopen"), gnu::used, gnu::retain, gnu::aligned(4)]]
const DlopenNote dlopen_note = make_note();

// The functions foster calls, typed by libsystemd-dev's own declarations (the
// headers are used for their prototypes only; nothing is linked).
struct Library {
    decltype(&::sd_notify) notify = nullptr;
    decltype(&::sd_watchdog_enabled) watchdog_enabled = nullptr;
    decltype(&::sd_journal_stream_fd) journal_stream_fd = nullptr;
    decltype(&::sd_journal_sendv) journal_sendv = nullptr;
    decltype(&::sd_listen_fds_with_names) listen_fds_with_names = nullptr;
    bool loaded = false;
    std::string error;
};

template <typename F>
bool resolve(void* handle, const char* name, F& function, std::string& error) {
    function = reinterpret_cast<F>(dlsym(handle, name));
    if (function == nullptr && error.empty()) error = std::string("libsystemd.so.0 has no ") + name;
    return function != nullptr;
}

// Loaded once and never unloaded: foster is single-threaded and lives as long
// as the calls it makes.
Library& library() {
    static Library lib = [] {
        Library l;
        void* handle = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
        if (handle == nullptr) {
            const char* why = dlerror();
            l.error = why != nullptr ? why : "cannot load libsystemd.so.0";
            return l;
        }
        bool ok = resolve(handle, "sd_notify", l.notify, l.error);
        ok = resolve(handle, "sd_watchdog_enabled", l.watchdog_enabled, l.error) && ok;
        ok = resolve(handle, "sd_journal_stream_fd", l.journal_stream_fd, l.error) && ok;
        ok = resolve(handle, "sd_journal_sendv", l.journal_sendv, l.error) && ok;
        ok = resolve(handle, "sd_listen_fds_with_names", l.listen_fds_with_names, l.error) && ok;
        l.loaded = ok;
        return l;
    }();
    return lib;
}

}  // namespace

bool available() { return library().loaded; }

const std::string& unavailable_reason() { return library().error; }

const char* build_description() { return "systemd: libsystemd.so.0 loaded when needed"; }

int notify(std::string_view state) {
    if (!available()) return -ENOSYS;
    const std::string text(state);  // sd_notify wants a C string
    return library().notify(0, text.c_str());
}

std::optional<std::chrono::microseconds> watchdog_interval() {
    if (!available()) return std::nullopt;
    std::uint64_t usec = 0;
    if (library().watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
    return std::chrono::microseconds(usec);
}

Fd journal_stream(const std::string& identifier, int priority) {
    if (!available()) {
        errno = ENOSYS;
        return Fd{};
    }
    const int fd = library().journal_stream_fd(identifier.c_str(), priority, 1);
    if (fd < 0) {
        errno = -fd;
        return Fd{};
    }
    return Fd{fd};
}

int listen_fds_with_names(std::vector<std::string>& names) {
    names.clear();
    if (!available()) return -ENOSYS;
    char** raw = nullptr;
    const int n = library().listen_fds_with_names(0, &raw);
    // libsystemd's strv: each string and the array malloc()ed, NULL-terminated.
    for (char** p = raw; p != nullptr && *p != nullptr; ++p) {
        names.emplace_back(*p);
        std::free(*p);
    }
    std::free(raw);
    return n;
}

bool journal_send(const std::vector<std::string>& fields) {
    if (!available()) return false;
    std::vector<iovec> iov;
    iov.reserve(fields.size());
    for (const auto& f : fields) iov.push_back(iovec{const_cast<char*>(f.data()), f.size()});
    return library().journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0;
}

}  // namespace foster::systemd
