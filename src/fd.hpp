// fd.hpp — the one owner of a file descriptor.
//
// Every descriptor foster opens lives in an Fd from the moment the system call
// returns until it is closed, so no early return, exception or moved-from copy
// can leak one. Every call site opens with *_CLOEXEC; Fd does not try to fix
// a descriptor that was born without it.
#pragma once

#include <unistd.h>

#include <utility>

namespace foster {

class Fd {
public:
    Fd() noexcept = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) reset(std::exchange(other.fd_, -1));
        return *this;
    }
    ~Fd() { reset(); }

    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
    explicit operator bool() const noexcept { return valid(); }

    // Gives up ownership without closing (used only where the kernel takes
    // the descriptor over, e.g. dup3 onto 0-2 in a child).
    [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }

    void reset(int fd = -1) noexcept {
        // close() is not retried on EINTR: on Linux the descriptor is gone
        // either way, and a retry could close a descriptor another path
        // has just been given.
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

// Both ends of a pipe2(O_CLOEXEC) pipe.
struct Pipe {
    Fd read_end;
    Fd write_end;
};

}  // namespace foster
