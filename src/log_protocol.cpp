#include "log_protocol.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <limits>
#include <system_error>
#include <vector>

#include "control_protocol.hpp"

namespace foster::control {

namespace {

constexpr std::string_view line_tag = "line";
constexpr std::string_view cut_tag = "cut";
constexpr char hex_digits[] = "0123456789abcdef";

std::vector<std::string_view> split_tabs(std::string_view text) {
    std::vector<std::string_view> parts;
    while (true) {
        const auto at = text.find('\t');
        parts.push_back(text.substr(0, at));
        if (at == std::string_view::npos) return parts;
        text.remove_prefix(at + 1);
    }
}

// A canonical decimal (no sign, no leading zero), at most `max`.
template <typename T>
std::optional<T> parse_number(std::string_view text, T max) {
    if (text.empty() || (text.size() > 1 && text[0] == '0')) return std::nullopt;
    // from_chars takes a '-' for a signed T: digits only, so "-1" is refused.
    if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
    T value{};
    const char* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc{} || ptr != end || value > max) return std::nullopt;
    return value;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

// The length of the valid UTF-8 sequence at the start of `s`, or 0.
std::size_t utf8_length(std::string_view s) {
    const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char c = b(0);
    if (c < 0x80) return 1;
    std::size_t n = 0;
    unsigned min = 0, cp = 0;
    if (c >= 0xc2 && c <= 0xdf) n = 2, cp = c & 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef) n = 3, cp = c & 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4) n = 4, cp = c & 0x07, min = 0x10000;
    else return 0;
    if (s.size() < n) return 0;
    for (std::size_t i = 1; i < n; ++i) {
        if ((b(i) & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (b(i) & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

void append_json_text(std::string& out, std::string_view text) {
    out += '"';
    while (!text.empty()) {
        const auto c = static_cast<unsigned char>(text[0]);
        const std::size_t n = utf8_length(text);
        if (n == 0) {  // not UTF-8: the byte as a lone low surrogate
            out += "\\udc";
            out += hex_digits[c >> 4];
            out += hex_digits[c & 0xf];
            text.remove_prefix(1);
            continue;
        }
        if (c == '"') out += "\\\"";
        else if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7f) {
            out += "\\u00";
            out += hex_digits[c >> 4];
            out += hex_digits[c & 0xf];
        } else {
            out.append(text.substr(0, n));
        }
        text.remove_prefix(n);
    }
    out += '"';
}

}  // namespace

bool valid_log_name(std::string_view name) {
    if (name.empty() || name.size() > max_name_bytes) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '.' || c == '-' || c == '/';
    });
}

std::string escape_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\\') {
            out += "\\\\";
        } else if (is_control(c)) {
            out += "\\x";
            out += hex_digits[c >> 4];
            out += hex_digits[c & 0xf];
        } else {
            out += ch;
        }
    }
    return out;
}

std::optional<std::string> unescape_text(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (is_control(c)) return std::nullopt;
        if (c != '\\') {
            out += text[i];
            continue;
        }
        if (i + 1 < text.size() && text[i + 1] == '\\') {
            out += '\\';
            ++i;
            continue;
        }
        if (i + 3 >= text.size() || text[i + 1] != 'x') return std::nullopt;
        const int hi = hex_value(text[i + 2]), lo = hex_value(text[i + 3]);
        if (hi < 0 || lo < 0) return std::nullopt;
        const auto byte = static_cast<unsigned char>(hi * 16 + lo);
        if (!is_control(byte)) return std::nullopt;  // only what escape_text writes
        out += static_cast<char>(byte);
        i += 3;
    }
    return out;
}

std::string format_log_line(const LogLine& line) {
    std::string out(line_tag);
    out += '\t' + std::to_string(line.seq) + '\t' + std::to_string(line.time_ms) + '\t' + line.name + '\t';
    out += stream_name(line.stream);
    out += '\t' + std::to_string(line.run) + '\t';
    out += line.priority >= 0 ? std::to_string(line.priority) : "-";
    out += '\t';
    out += escape_text(line.text);
    out += '\n';
    return out;
}

std::optional<LogLine> parse_log_line(std::string_view text) {
    if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    const auto fields = split_tabs(text);
    if (fields.size() != 8 || fields[0] != line_tag) return std::nullopt;
    LogLine line;
    const auto seq = parse_number<std::uint64_t>(fields[1], std::numeric_limits<std::uint64_t>::max());
    const auto time = parse_number<std::int64_t>(fields[2], std::numeric_limits<std::int64_t>::max());
    const auto stream = parse_stream(fields[4]);
    const auto run = parse_number<std::uint32_t>(fields[5], std::numeric_limits<std::uint32_t>::max());
    if (!seq || *seq == 0 || !time || !valid_log_name(fields[3]) || !stream || !run) return std::nullopt;
    if (fields[6] != "-") {
        const auto priority = parse_number<int>(fields[6], 191);  // facility 23, severity 7
        if (!priority) return std::nullopt;
        line.priority = *priority;
    }
    auto body = unescape_text(fields[7]);
    if (!body) return std::nullopt;
    line.seq = *seq;
    line.time_ms = *time;
    line.name = fields[3];
    line.stream = *stream;
    line.run = *run;
    line.text = std::move(*body);
    return line;
}

std::string format_cut(std::string_view why) {
    std::string out(cut_tag);
    out += '\t';
    for (char c : why) out += is_control(static_cast<unsigned char>(c)) ? '?' : c;
    out += '\n';
    return out;
}

std::optional<std::string> parse_cut(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (line.substr(0, cut_tag.size() + 1) != "cut\t") return std::nullopt;
    line.remove_prefix(cut_tag.size() + 1);
    if (std::any_of(line.begin(), line.end(), [](char c) { return is_control(static_cast<unsigned char>(c)); }))
        return std::nullopt;
    return std::string(line);
}

std::string format_utc_ms(std::int64_t time_ms) {
    const std::int64_t seconds = time_ms >= 0 ? time_ms / 1000 : (time_ms - 999) / 1000;
    const auto ms = static_cast<int>(time_ms - seconds * 1000);
    const auto t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    if (gmtime_r(&t, &tm) == nullptr) return "-";
    char buf[48];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::string out(buf, n);
    out += '.';
    out += static_cast<char>('0' + ms / 100);
    out += static_cast<char>('0' + ms / 10 % 10);
    out += static_cast<char>('0' + ms % 10);
    out += 'Z';
    return out;
}

std::string log_line_text(const LogLine& line) {
    std::string out = format_utc_ms(line.time_ms);
    out += ' ';
    out += line.name;
    out += " | ";
    out += line.text;
    out += '\n';
    return out;
}

std::string log_line_json(const LogLine& line) {
    std::string out = "{\"time\":\"" + format_utc_ms(line.time_ms) + "\",\"time_ms\":" + std::to_string(line.time_ms);
    out += ",\"name\":";
    append_json_text(out, line.name);
    out += ",\"stream\":\"";
    out += stream_name(line.stream);
    out += "\",\"run\":" + std::to_string(line.run);
    if (line.priority >= 0)
        out += ",\"facility\":" + std::to_string(line.priority / 8) + ",\"severity\":" + std::to_string(line.priority % 8);
    out += ",\"text\":";
    append_json_text(out, line.text);
    out += "}\n";
    return out;
}

}  // namespace foster::control
