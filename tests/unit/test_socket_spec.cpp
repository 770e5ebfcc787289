#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>
#include <string>
#include <variant>

#include "config.hpp"
#include "socket_spec.hpp"

using foster::ListenAddress;
using foster::parse_listen_address;
using Family = foster::ListenAddress::Family;

namespace {

ListenAddress ok(const std::string& text) {
    auto parsed = parse_listen_address(text);
    INFO(text);
    if (const auto* why = std::get_if<std::string>(&parsed)) FAIL(*why);
    return std::get<ListenAddress>(parsed);
}

std::string error(const std::string& text) {
    auto parsed = parse_listen_address(text);
    INFO(text);
    REQUIRE(std::holds_alternative<std::string>(parsed));
    return std::get<std::string>(parsed);
}

}  // namespace

TEST_CASE("listen: IPv4 HOST:PORT") {
    const auto a = ok("127.0.0.1:8080");
    CHECK(a.family == Family::ipv4);
    CHECK(a.length == sizeof(sockaddr_in));
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a.address);
    CHECK(in->sin_family == AF_INET);
    CHECK(ntohs(in->sin_port) == 8080);
    CHECK(ntohl(in->sin_addr.s_addr) == 0x7f000001u);
    CHECK(ok("0.0.0.0:0").family == Family::ipv4);
    const auto top = ok("0.0.0.0:65535");
    CHECK(ntohs(reinterpret_cast<const sockaddr_in*>(&top.address)->sin_port) == 65535);
}

TEST_CASE("listen: IPv6 in brackets") {
    const auto a = ok("[::1]:8443");
    CHECK(a.family == Family::ipv6);
    CHECK(a.length == sizeof(sockaddr_in6));
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a.address);
    CHECK(in6->sin6_family == AF_INET6);
    CHECK(ntohs(in6->sin6_port) == 8443);
    CHECK(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));
    const auto any = ok("[::]:80");
    CHECK(IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(&any.address)->sin6_addr));
    CHECK(ok("[fe80::1:2]:1").family == Family::ipv6);
}

TEST_CASE("listen: unix path, abstract name, systemd name") {
    const auto path = ok("/run/web/admin.sock");
    CHECK(path.family == Family::unix_path);
    CHECK(path.path == "/run/web/admin.sock");
    const auto* un = reinterpret_cast<const sockaddr_un*>(&path.address);
    CHECK(un->sun_family == AF_UNIX);
    CHECK(std::string(un->sun_path) == "/run/web/admin.sock");

    const auto abstract = ok("@web-admin");
    CHECK(abstract.family == Family::unix_abstract);
    const auto* aun = reinterpret_cast<const sockaddr_un*>(&abstract.address);
    CHECK(aun->sun_path[0] == '\0');
    CHECK(std::string(aun->sun_path + 1, 9) == "web-admin");
    // Counted, not terminated: the name is exactly its bytes.
    CHECK(abstract.length == offsetof(sockaddr_un, sun_path) + 1 + 9);

    const auto sd = ok("systemd:http");
    CHECK(sd.family == Family::systemd);
    CHECK(sd.path == "http");
}

TEST_CASE("listen: longest unix path fits, one more byte does not") {
    CHECK(ok("/" + std::string(106, 'a')).family == Family::unix_path);
    CHECK(error("/" + std::string(107, 'a')).find("too long") != std::string::npos);
    CHECK(ok("@" + std::string(107, 'a')).family == Family::unix_abstract);
    CHECK(error("@" + std::string(108, 'a')).find("too long") != std::string::npos);
}

TEST_CASE("listen: bad addresses say why") {
    CHECK(error("") .find("empty address") == 0);
    CHECK(error("8080").find("no port") == 0);
    CHECK(error("localhost:80") == "invalid IPv4 address 'localhost' (host names are not looked up)");
    CHECK(error(":80").find("invalid IPv4 address ''") == 0);
    CHECK(error("127.1:80").find("invalid IPv4 address '127.1'") == 0);
    CHECK(error("1.2.3.4:65536") == "invalid port '65536' (0 to 65535)");
    CHECK(error("1.2.3.4:") == "invalid port '' (0 to 65535)");
    CHECK(error("1.2.3.4:-1") == "invalid port '-1' (0 to 65535)");
    CHECK(error("1.2.3.4:80x") == "invalid port '80x' (0 to 65535)");
    CHECK(error("::1:80") == "an IPv6 address must be written in brackets, like [::1]:8080");
    CHECK(error("[::1:80").find("unbalanced '['") == 0);
    CHECK(error("[nope]:80") == "invalid IPv6 address 'nope'");
    CHECK(error("@") == "empty abstract socket name after '@'");
    CHECK(error("systemd:") == "invalid systemd socket name after 'systemd:'");
    CHECK(error("systemd:a:b") == "invalid systemd socket name after 'systemd:'");
}

TEST_CASE("socket names: what LISTEN_FDNAMES can carry") {
    CHECK(foster::valid_socket_name("http"));
    CHECK(foster::valid_socket_name("web.admin-2_x"));
    CHECK_FALSE(foster::valid_socket_name(""));
    CHECK_FALSE(foster::valid_socket_name("a:b"));
    CHECK_FALSE(foster::valid_socket_name("a b"));
    CHECK_FALSE(foster::valid_socket_name(std::string(256, 'a')));
    CHECK(foster::valid_socket_name(std::string(255, 'a')));
}

TEST_CASE("config: sockets in file order with defaults and options") {
    const auto result = foster::parse_config(R"(
[services.web]
command = "x"
[services.web.sockets]
https = { listen = "[::]:8443", backlog = 4096 }
http  = { listen = "0.0.0.0:8080" }
admin = { listen = "/run/web/admin.sock", mode = "0660", group = 0, close_on_stop = true }
dgram = { listen = "@web-log", type = "datagram", reuse_port = true }
)", "inline.toml");
    REQUIRE(result.config);
    const auto& sockets = result.config->services.at(0).sockets;
    REQUIRE(sockets.size() == 4);
    CHECK(sockets[0].name == "https");
    CHECK(sockets[0].backlog == 4096);
    CHECK(sockets[0].line == 5);
    CHECK(sockets[0].column == 20);
    CHECK(sockets[1].name == "http");
    CHECK(sockets[1].backlog == SOMAXCONN);
    CHECK(sockets[1].type == foster::SocketType::stream);
    CHECK_FALSE(sockets[1].close_on_stop);
    CHECK(sockets[2].mode == 0660);
    CHECK(sockets[2].owner_gid == 0u);
    CHECK_FALSE(sockets[2].owner_uid.has_value());
    CHECK(sockets[2].close_on_stop);
    CHECK(sockets[3].type == foster::SocketType::datagram);
    CHECK(sockets[3].reuse_port);
}

TEST_CASE("config: a unix socket file belongs to the service's user by default") {
    const auto result = foster::parse_config(R"(
[services.web]
command = "x"
user = 0
group = 0
sockets.admin = { listen = "/run/admin.sock" }
sockets.tcp = { listen = "127.0.0.1:1" }
)", "inline.toml");
    REQUIRE(result.config);
    const auto& sockets = result.config->services.at(0).sockets;
    CHECK(sockets[0].owner_uid == 0u);
    CHECK(sockets[0].owner_gid == 0u);
    CHECK_FALSE(sockets[1].owner_uid.has_value());
}

TEST_CASE("config: moving a socket's line is not a change, its options are") {
    const auto a = foster::parse_config("[services.w]\ncommand = \"x\"\nsockets.h = { listen = \"127.0.0.1:1\" }\n", "a");
    const auto b = foster::parse_config("[services.w]\n\n\ncommand = \"x\"\nsockets.h = { listen = \"127.0.0.1:1\" }\n", "b");
    const auto c = foster::parse_config("[services.w]\ncommand = \"x\"\nsockets.h = { listen = \"127.0.0.1:1\", backlog = 5 }\n", "c");
    REQUIRE(a.config);
    REQUIRE(b.config);
    REQUIRE(c.config);
    CHECK(a.config->services[0] == b.config->services[0]);
    CHECK_FALSE(a.config->services[0] == c.config->services[0]);
    CHECK(a.config->services[0].sockets[0].same_socket(c.config->services[0].sockets[0]));
}

TEST_CASE("config/socket-activation.toml and config/reference.toml load") {
    for (const char* name : {"socket-activation.toml", "reference.toml"}) {
        const auto result = foster::load_config(std::string(FOSTER_TEST_DATA) + "/../../config/" + name);
        std::string errors;
        for (const auto& e : result.errors) errors += e.to_string() + "\n";
        INFO(errors);
        CHECK(result.config.has_value());
    }
}
