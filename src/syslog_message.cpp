#include "syslog_message.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace foster {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "<PRI>": 1 to 3 digits, 0..191. Consumed only when well formed.
std::optional<int> take_priority(std::string_view& s) {
    if (s.empty() || s[0] != '<') return std::nullopt;
    const auto close = s.find('>');
    if (close == std::string_view::npos || close < 2 || close > 4) return std::nullopt;
    const auto digits = s.substr(1, close - 1);
    if (!std::all_of(digits.begin(), digits.end(), is_digit) || (digits.size() > 1 && digits[0] == '0'))
        return std::nullopt;
    int value = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (value > 191) return std::nullopt;
    s.remove_prefix(close + 1);
    return value;
}

// "Mmm dd hh:mm:ss " (RFC 3164): skipped when it is there.
void skip_bsd_timestamp(std::string_view& s) {
    static constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (s.size() < 16 || std::find(months.begin(), months.end(), s.substr(0, 3)) == months.end()) return;
    const auto t = s.substr(0, 16);
    const bool shape = t[3] == ' ' && (t[4] == ' ' || is_digit(t[4])) && is_digit(t[5]) && t[6] == ' ' &&
                       is_digit(t[7]) && is_digit(t[8]) && t[9] == ':' && is_digit(t[10]) && is_digit(t[11]) &&
                       t[12] == ':' && is_digit(t[13]) && is_digit(t[14]) && t[15] == ' ';
    if (shape) s.remove_prefix(16);
}

std::string_view take_word(std::string_view& s) {
    const auto space = s.find(' ');
    const auto word = s.substr(0, space);
    s.remove_prefix(space == std::string_view::npos ? s.size() : space + 1);
    return word;
}

std::optional<long> as_pid(std::string_view text) {
    if (text.empty() || text.size() > 10 || !std::all_of(text.begin(), text.end(), is_digit)) return std::nullopt;
    long value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
}

// STRUCTURED-DATA: "-" or one or more [ID PARAM="VALUE" ...] elements, in
// which '\' escapes the next character.
void skip_structured_data(std::string_view& s) {
    if (s.substr(0, 1) == "-") {
        s.remove_prefix(1);
    } else {
        while (!s.empty() && s[0] == '[') {
            std::size_t i = 1;
            for (; i < s.size() && s[i] != ']'; ++i)
                if (s[i] == '\\') ++i;
            s.remove_prefix(std::min(i + 1, s.size()));
        }
    }
    if (!s.empty() && s[0] == ' ') s.remove_prefix(1);
}

void parse_rfc5424(std::string_view s, SyslogMessage& m) {
    take_word(s);  // TIMESTAMP
    take_word(s);  // HOSTNAME
    const auto app = take_word(s);
    const auto procid = take_word(s);
    take_word(s);  // MSGID
    skip_structured_data(s);
    if (s.substr(0, 3) == "\xef\xbb\xbf") s.remove_prefix(3);  // the BOM of a UTF-8 MSG
    if (app != "-") m.name = syslog_name(app);
    m.pid = as_pid(procid);
    m.text = s;
}

// "TAG[PID]: text" or "TAG: text"; anything else is all text.
void parse_rfc3164(std::string_view s, SyslogMessage& m) {
    const auto end = s.find_first_of(":[ ");
    if (end == std::string_view::npos || end == 0 || end > max_syslog_tag) {
        m.text = s;
        return;
    }
    std::string_view rest = s.substr(end);
    std::optional<long> pid;
    if (rest[0] == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) {
            m.text = s;
            return;
        }
        pid = as_pid(rest.substr(1, close - 1));
        rest.remove_prefix(close + 1);
    }
    if (rest.empty() || rest[0] != ':') {
        m.text = s;
        return;
    }
    rest.remove_prefix(1);
    if (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    m.name = syslog_name(s.substr(0, end));
    m.pid = pid;
    m.text = rest;
}

}  // namespace

std::string syslog_name(std::string_view tag) {
    std::string name(tag.substr(0, max_syslog_tag));
    for (char& c : name) {
        const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' ||
                             c == '.' || c == '-' || c == '/';
        if (!allowed) c = '_';
    }
    return name.empty() ? "syslog" : name;
}

SyslogMessage parse_syslog(std::string_view s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\0' || s.back() == '\r')) s.remove_suffix(1);
    SyslogMessage m;
    if (auto priority = take_priority(s)) m.priority = *priority;
    if (s.substr(0, 2) == "1 ") {
        s.remove_prefix(2);
        parse_rfc5424(s, m);
        return m;
    }
    skip_bsd_timestamp(s);
    parse_rfc3164(s, m);
    return m;
}

}  // namespace foster
