// line_splitter.hpp — a service's byte stream cut into lines.
//
// Lines are lines: every piece handed on is one line without its newline,
// and says how it ended:
//   newline   the service wrote the newline;
//   cut       the line was longer than max_line bytes, and this piece is
//             not its end (the next piece goes on with it);
//   partial   the run ended (or the output was dropped) with no newline
//             after these bytes.
// Sinks write a cut or partial piece as a line of its own followed by its
// marker (cut_marker, partial_marker), so a reader can tell that the service
// did not end the line there. Bytes are never changed: invalid UTF-8 goes
// through as it came. A cut falls on a UTF-8 character boundary when the
// bytes there are UTF-8, so a character is never split across two lines.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace foster {

enum class LineEnd { newline, cut, partial };

// Written after a piece that is not the end of its line. Plain ASCII, and
// text a program is unlikely to print itself.
inline constexpr std::string_view cut_marker = " [foster: line continues]";
inline constexpr std::string_view partial_marker = " [foster: no newline]";

// The marker that follows a piece in a sink ("" after a newline).
constexpr std::string_view marker_for(LineEnd end) {
    return end == LineEnd::cut ? cut_marker : end == LineEnd::partial ? partial_marker : std::string_view{};
}

// Where to cut `text` (longer than `limit`) so a UTF-8 character is not
// split: at `limit`, or up to 3 bytes before it when a character starts
// there. Bytes that are not UTF-8 are cut at `limit`.
std::size_t cut_point(std::string_view text, std::size_t limit);

class LineSplitter {
public:
    static constexpr std::size_t default_max_line = 16 * 1024;

    explicit LineSplitter(std::size_t max_line = default_max_line) : max_line_(max_line) {}

    // Hands every complete line (and every full max_line piece) in `bytes`
    // to emit(std::string_view, LineEnd); keeps the rest for the next call.
    template <typename Emit>
    void feed(std::string_view bytes, Emit&& emit);

    // The incomplete line kept, if any, as a `partial` piece.
    template <typename Emit>
    void flush(Emit&& emit);

    [[nodiscard]] std::size_t pending_bytes() const { return pending_.size(); }

private:
    template <typename Emit>
    void cut_long(Emit& emit);

    std::size_t max_line_;
    std::string pending_;  // the start of a line: never max_line bytes or more
};

template <typename Emit>
void LineSplitter::feed(std::string_view bytes, Emit&& emit) {
    while (!bytes.empty()) {
        const std::size_t nl = bytes.find('\n');
        if (nl == std::string_view::npos) {
            pending_.append(bytes);
            cut_long(emit);
            return;
        }
        if (pending_.empty() && nl <= max_line_) {
            emit(bytes.substr(0, nl), LineEnd::newline);  // the common case: no copy
        } else {
            pending_.append(bytes.substr(0, nl));
            cut_long(emit);
            emit(std::string_view(pending_), LineEnd::newline);
            pending_.clear();
        }
        bytes.remove_prefix(nl + 1);
    }
}

template <typename Emit>
void LineSplitter::cut_long(Emit& emit) {
    // More than max_line bytes: cut. Exactly max_line waits, since its
    // newline may be the next byte.
    std::size_t start = 0;
    while (pending_.size() - start > max_line_) {
        const std::string_view rest = std::string_view(pending_).substr(start);
        const std::size_t at = cut_point(rest, max_line_);
        emit(rest.substr(0, at), LineEnd::cut);
        start += at;
    }
    pending_.erase(0, start);
}

template <typename Emit>
void LineSplitter::flush(Emit&& emit) {
    if (pending_.empty()) return;
    emit(std::string_view(pending_), LineEnd::partial);
    pending_.clear();
}

}  // namespace foster
