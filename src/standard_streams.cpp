#include "standard_streams.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace foster {

std::vector<Fd> hold_closed_standard_streams() {
    std::vector<Fd> held;
    for (int slot = 0; slot <= STDERR_FILENO; ++slot) {
        if (fcntl(slot, F_GETFD) >= 0 || errno != EBADF) continue;
        // The lowest free number: the slots below are open (or held) already.
        Fd placeholder{::open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY)};
        if (!placeholder) continue;  // no /dev/null: the Supervisor refuses to start anyway
        if (placeholder.get() != slot) {
            Fd moved{fcntl(placeholder.get(), F_DUPFD_CLOEXEC, slot)};
            if (!moved || moved.get() != slot) continue;
            placeholder = std::move(moved);
        }
        held.push_back(std::move(placeholder));
    }
    return held;
}

}  // namespace foster
