// The sd_notify datagram parser (any local process can send to the socket)
// and the socket's handling of datagrams that are too long.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "notify.hpp"

using foster::NotifyMessage;
using foster::parse_notify_message;
using namespace std::string_literals;

TEST_CASE("READY=1 alone, with or without a newline") {
    CHECK(parse_notify_message("READY=1", 7).ready);
    CHECK(parse_notify_message("READY=1\n", 7).ready);
    CHECK(parse_notify_message("STATUS=up\nREADY=1\n", 7).ready);
    CHECK(parse_notify_message("READY=1", 7).sender == 7);
    CHECK_FALSE(parse_notify_message("READY=1", 7).status);
}

TEST_CASE("only the exact assignment counts") {
    for (const char* text : {"READY=0", "READY=1 ", " READY=1", "READY=11", "ready=1", "READY", "READY=",
                             "READY=1\r", "XREADY=1", ""}) {
        CAPTURE(text);
        CHECK_FALSE(parse_notify_message(text, 1).ready);
    }
}

TEST_CASE("STATUS= takes the rest of its line; the last one wins") {
    CHECK(parse_notify_message("STATUS=3 of 4 workers up", 1).status == "3 of 4 workers up");
    CHECK(parse_notify_message("STATUS=", 1).status == "");
    CHECK(parse_notify_message("STATUS=a=b=c\n", 1).status == "a=b=c");
    const NotifyMessage m = parse_notify_message("STATUS=first\nREADY=1\nSTATUS=second\n", 1);
    CHECK(m.status == "second");
    CHECK(m.ready);
    CHECK(parse_notify_message("READY=1\nREADY=1\nREADY=1", 1).ready);
    CHECK(parse_notify_message("STOPPING=1", 1).stopping);
}

TEST_CASE("garbage is ignored, line by line") {
    const NotifyMessage m = parse_notify_message("\n\n=\n==\nno equals sign\nWHAT=EVER\n\xff\xfe\nREADY=1\n\n", 1);
    CHECK(m.ready);
    CHECK_FALSE(m.status);
    CHECK_FALSE(parse_notify_message("\xff\xfe\xfd", 1).ready);
    CHECK_FALSE(parse_notify_message("\n\n\n", 1).ready);
}

TEST_CASE("a datagram with an embedded NUL is ignored whole") {
    CHECK_FALSE(parse_notify_message("READY=1\0"s, 1).ready);
    CHECK_FALSE(parse_notify_message("READY=1\n\0STATUS=x"s, 1).ready);
    CHECK_FALSE(parse_notify_message("STATUS=a\0b\nREADY=1"s, 1).status);
    CHECK_FALSE(parse_notify_message("\0READY=1"s, 1).ready);
}

TEST_CASE("a huge message is parsed without trouble") {
    std::string text(1 << 20, 'x');
    text += "\nREADY=1\nSTATUS=" + std::string(100000, 's');
    const NotifyMessage m = parse_notify_message(text, 1);
    CHECK(m.ready);
    REQUIRE(m.status);
    CHECK(m.status->size() == 100000);
}

namespace {

// Sends `data` to the notify socket from this process (credentials are
// added by the kernel: the receiver has SO_PASSCRED).
void send_to(const foster::NotifySocket& notify, const std::string& data) {
    const foster::Fd s{socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
    REQUIRE(s.valid());
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string& name = notify.address();  // "@..."
    std::memcpy(addr.sun_path + 1, name.data() + 1, name.size() - 1);
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    REQUIRE(sendto(s.get(), data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&addr), len) ==
            static_cast<ssize_t>(data.size()));
}

}  // namespace

TEST_CASE("the socket ignores a datagram too long for its buffer, and takes the next") {
    foster::NotifySocket notify = foster::NotifySocket::open();
    REQUIRE(notify.valid());
    // READY=1 in the part that fits, the rest cut off: not a message.
    send_to(notify, "READY=1\nSTATUS=" + std::string(8000, 'x'));
    send_to(notify, "STATUS=fine\nREADY=1");
    std::vector<NotifyMessage> got;
    notify.drain([&](const NotifyMessage& m) { got.push_back(m); });
    REQUIRE(got.size() == 1);
    CHECK(got[0].ready);
    CHECK(got[0].status == "fine");
    CHECK(got[0].sender == getpid());
}
