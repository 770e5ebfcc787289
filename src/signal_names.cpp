#include "signal_names.hpp"

#include <csignal>
#include <cstring>
#include <iterator>

namespace foster {

namespace {

struct NamedSignal {
    const char* name;  // without the "SIG" prefix
    int number;
};

constexpr NamedSignal named_signals[] = {
    {"HUP", SIGHUP},     {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},
    {"TRAP", SIGTRAP},   {"ABRT", SIGABRT},     {"IOT", SIGIOT},     {"BUS", SIGBUS},
    {"FPE", SIGFPE},     {"KILL", SIGKILL},     {"USR1", SIGUSR1},   {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2},   {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},   {"TERM", SIGTERM},
    {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},   {"CONT", SIGCONT},   {"STOP", SIGSTOP},
    {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},     {"TTOU", SIGTTOU},   {"URG", SIGURG},
    {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
    {"WINCH", SIGWINCH}, {"IO", SIGIO},         {"POLL", SIGPOLL},   {"PWR", SIGPWR},
    {"SYS", SIGSYS},
};

std::optional<int> parse_number(std::string_view text) {
    if (text.empty() || text.size() > 3) return std::nullopt;
    int n = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        n = n * 10 + (c - '0');
    }
    return n;
}

bool equals_upper(std::string_view text, const char* name) {
    const std::size_t len = std::strlen(name);
    if (text.size() != len) return false;
    for (std::size_t i = 0; i < len; ++i) {
        char c = text[i];
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (c != name[i]) return false;
    }
    return true;
}

// "RTMIN", "RTMIN+3", "RTMAX-2".
std::optional<int> parse_realtime(std::string_view text) {
    const bool min = text.substr(0, 5) == "RTMIN";
    const bool max = text.substr(0, 5) == "RTMAX";
    if (!min && !max) return std::nullopt;
    const int base = min ? SIGRTMIN : SIGRTMAX;
    std::string_view rest = text.substr(5);
    if (rest.empty()) return base;
    if ((min && rest[0] != '+') || (max && rest[0] != '-')) return std::nullopt;
    const auto offset = parse_number(rest.substr(1));
    if (!offset) return std::nullopt;
    const int sig = min ? base + *offset : base - *offset;
    if (sig < SIGRTMIN || sig > SIGRTMAX) return std::nullopt;
    return sig;
}

}  // namespace

std::optional<int> parse_signal(std::string_view text, bool allow_zero) {
    if (const auto n = parse_number(text)) {
        if (*n == 0) return allow_zero ? std::optional<int>{0} : std::nullopt;
        if (*n >= NSIG) return std::nullopt;
        return n;
    }
    std::string upper(text);
    for (char& c : upper)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    std::string_view bare = upper;
    if (bare.substr(0, 3) == "SIG") bare.remove_prefix(3);
    for (const auto& s : named_signals)
        if (equals_upper(bare, s.name)) return s.number;
    return parse_realtime(bare);
}

std::string signal_name(int sig) {
    for (const auto& s : named_signals)
        if (s.number == sig && std::strcmp(s.name, "IOT") != 0 && std::strcmp(s.name, "POLL") != 0)
            return std::string("SIG") + s.name;
    if (sig >= SIGRTMIN && sig <= SIGRTMAX)
        return sig == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+" + std::to_string(sig - SIGRTMIN);
    return "signal " + std::to_string(sig);
}

}  // namespace foster
