// socket_spec.cpp — see socket_spec.hpp.
#include "socket_spec.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>

namespace foster {

namespace {

constexpr std::string_view expected =
    " (expected HOST:PORT with an IPv4 address, [IPv6]:PORT, an absolute path, @name or systemd:NAME)";

std::optional<in_port_t> parse_port(std::string_view text) {
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc{} || ptr != end || value > 65535) return std::nullopt;
    return static_cast<in_port_t>(value);
}

std::variant<ListenAddress, std::string> parse_unix(std::string_view text, ListenAddress::Family family) {
    ListenAddress a;
    a.family = family;
    const std::string_view name = family == ListenAddress::Family::unix_abstract ? text.substr(1) : text;
    sockaddr_un un{};
    // A path needs a terminating NUL, an abstract name a leading one.
    const std::size_t room = sizeof un.sun_path - 1;
    if (name.empty()) return std::string("empty abstract socket name after '@'");
    if (name.size() > room)
        return "too long for a unix socket (at most " + std::to_string(room) + " bytes)";
    un.sun_family = AF_UNIX;
    if (family == ListenAddress::Family::unix_abstract) {
        un.sun_path[0] = '\0';
        std::memcpy(un.sun_path + 1, name.data(), name.size());
        a.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    } else {
        std::memcpy(un.sun_path, name.data(), name.size());
        a.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + 1);
    }
    std::memcpy(&a.address, &un, sizeof un);
    a.path = std::string(name);
    return a;
}

std::variant<ListenAddress, std::string> parse_inet(std::string_view text) {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return "no port" + std::string(expected);
    const auto port = parse_port(text.substr(colon + 1));
    if (!port) return "invalid port '" + std::string(text.substr(colon + 1)) + "' (0 to 65535)";
    std::string_view host = text.substr(0, colon);
    ListenAddress a;
    if (!host.empty() && host.front() == '[') {
        if (host.size() < 2 || host.back() != ']') return "unbalanced '[' in an IPv6 address" + std::string(expected);
        const std::string literal(host.substr(1, host.size() - 2));
        sockaddr_in6 in6{};
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons(*port);
        if (inet_pton(AF_INET6, literal.c_str(), &in6.sin6_addr) != 1)
            return "invalid IPv6 address '" + literal + "'";
        a.family = ListenAddress::Family::ipv6;
        std::memcpy(&a.address, &in6, sizeof in6);
        a.length = sizeof in6;
        return a;
    }
    if (host.find(':') != std::string_view::npos)
        return "an IPv6 address must be written in brackets, like [::1]:8080";
    const std::string literal(host);
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(*port);
    // inet_pton, not inet_aton: "127.1" or "0x7f.1" are not what anyone means.
    if (literal.empty() || inet_pton(AF_INET, literal.c_str(), &in.sin_addr) != 1)
        return "invalid IPv4 address '" + literal + "' (host names are not looked up)";
    a.family = ListenAddress::Family::ipv4;
    std::memcpy(&a.address, &in, sizeof in);
    a.length = sizeof in;
    return a;
}

}  // namespace

bool valid_socket_name(std::string_view name) {
    if (name.empty() || name.size() > 255) return false;
    for (const char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == ':' || byte < 0x21 || byte > 0x7e) return false;
    }
    return true;
}

std::variant<ListenAddress, std::string> parse_listen_address(std::string_view text) {
    if (text.empty()) return "empty address" + std::string(expected);
    if (text.front() == '/') return parse_unix(text, ListenAddress::Family::unix_path);
    if (text.front() == '@') return parse_unix(text, ListenAddress::Family::unix_abstract);
    if (text.starts_with("systemd:")) {
        const std::string_view name = text.substr(8);
        if (!valid_socket_name(name)) return std::string("invalid systemd socket name after 'systemd:'");
        ListenAddress a;
        a.family = ListenAddress::Family::systemd;
        a.path = std::string(name);
        return a;
    }
    return parse_inet(text);
}

}  // namespace foster
