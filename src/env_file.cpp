// env_file.cpp — see env_file.hpp.
#include "env_file.hpp"

#include <cstdlib>

namespace foster {

namespace {

bool is_name_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// Walks the file one character at a time, keeping line and column for errors.
class Cursor {
public:
    explicit Cursor(std::string_view text) : text_(text) {}
    [[nodiscard]] bool done() const { return at_ >= text_.size(); }
    [[nodiscard]] char peek() const { return text_[at_]; }
    char next() {
        const char c = text_[at_++];
        if (c == '\n') {
            ++line_;
            column_ = 1;
        } else {
            ++column_;
        }
        return c;
    }
    void skip_blanks() {
        while (!done() && is_blank(peek())) next();
    }
    void skip_line() {
        while (!done() && next() != '\n') {}
    }
    [[nodiscard]] int line() const { return line_; }
    [[nodiscard]] int column() const { return column_; }

private:
    std::string_view text_;
    std::size_t at_ = 0;
    int line_ = 1;
    int column_ = 1;
};

EnvFileResult failure(int line, int column, std::string message) {
    return {{}, EnvFileError{line, column, std::move(message)}};
}

// A value up to the end of its (last) line. Returns false at an unterminated quote.
bool read_value(Cursor& in, std::string& value) {
    std::size_t keep = 0;  // length without the trailing whitespace outside quotes
    while (!in.done() && in.peek() != '\n') {
        const char c = in.next();
        if (c == '\\') {
            if (in.done()) break;
            const char escaped = in.next();
            if (escaped != '\n') value += escaped;
            keep = value.size();
        } else if (c == '\'') {
            for (;;) {
                if (in.done()) return false;
                const char q = in.next();
                if (q == '\'') break;
                value += q;
            }
            keep = value.size();
        } else if (c == '"') {
            for (;;) {
                if (in.done()) return false;
                const char q = in.next();
                if (q == '"') break;
                if (q == '\\' && !in.done()) {
                    const char escaped = in.next();
                    if (escaped == '\n') continue;  // the line continues
                    if (escaped != '"' && escaped != '\\' && escaped != '$' && escaped != '`') value += '\\';
                    value += escaped;
                } else {
                    value += q;
                }
            }
            keep = value.size();
        } else {
            value += c;
            if (!is_blank(c)) keep = value.size();
        }
    }
    value.resize(keep);
    if (!in.done()) in.next();  // the newline
    return true;
}

}  // namespace

EnvFileResult parse_environment_file(std::string_view text) {
    EnvFileResult result;
    Cursor in(text);
    while (!in.done()) {
        in.skip_blanks();
        if (in.done()) break;
        if (in.peek() == '\n') {
            in.next();
            continue;
        }
        if (in.peek() == '#' || in.peek() == ';') {
            in.skip_line();
            continue;
        }
        const int line = in.line(), column = in.column();
        std::string name;
        while (!in.done() && in.peek() != '=' && in.peek() != '\n') name += in.next();
        while (!name.empty() && is_blank(name.back())) name.pop_back();
        if (in.done() || in.peek() != '=')
            return failure(line, column, "expected NAME=value");
        bool valid = !name.empty() && is_name_start(name.front());
        for (const char c : name) valid = valid && is_name_char(c);
        if (!valid)
            return failure(line, column, "invalid variable name '" + name +
                                             "' (letters, digits and '_', not starting with a digit)");
        in.next();  // '='
        in.skip_blanks();
        std::string value;
        if (!read_value(in, value)) return failure(line, column, "unterminated quote in the value of " + name);
        set_variable(result.variables, name, std::move(value));
    }
    return result;
}

void set_variable(EnvironmentList& list, const std::string& name, std::string value) {
    for (auto& [existing, old] : list)
        if (existing == name) {
            old = std::move(value);
            return;
        }
    list.emplace_back(name, std::move(value));
}

Expansion expand_variables(std::string_view text, const VariableLookup& lookup) {
    Expansion out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c != '$' || i + 1 == text.size() || (text[i + 1] != '$' && text[i + 1] != '{')) {
            out.text += c;
            continue;
        }
        if (text[i + 1] == '$') {
            out.text += '$';
            ++i;
            continue;
        }
        const std::size_t close = text.find('}', i + 2);
        if (close == std::string_view::npos) {
            out.error = "unterminated '${' (write '$$' for a literal '$')";
            return out;
        }
        const std::string_view inside = text.substr(i + 2, close - i - 2);
        const std::size_t dash = inside.find(":-");
        const std::string name(inside.substr(0, dash));
        bool valid = !name.empty() && is_name_start(name.front());
        for (const char n : name) valid = valid && is_name_char(n);
        if (!valid) {
            out.error = "invalid variable name '" + name + "' in '${" + std::string(inside) + "}'";
            return out;
        }
        const auto value = lookup(name);
        if (dash != std::string_view::npos && (!value || value->empty()))
            out.text += inside.substr(dash + 2);
        else if (value)
            out.text += *value;
        else {
            out.error = "unset variable '" + name + "' (give a default with '${" + name + ":-default}')";
            return out;
        }
        i = close;
    }
    return out;
}

std::optional<std::string> foster_environment(const std::string& name) {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
}

}  // namespace foster
