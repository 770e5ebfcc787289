// status_view.cpp — the status table and JSON, a row at a time.
//
// With 10,000 services foster's answer is 425 kB and the JSON 1.4 MB. Holding
// every row and then the whole text cost fosterctl 2,200 page faults, 27 of
// its 32 ms (bench/README.md); written a row at a time into a buffer the
// caller passes on, it holds the answer and one row.
#include "status_view.hpp"

#include <algorithm>
#include <ctime>
#include <optional>
#include <string_view>

namespace foster::control {

namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_json_string(std::string& out, std::string_view text) {
    out += '"';
    for (char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                out += "\\u00";
                out += hex_digits[static_cast<unsigned char>(c) >> 4];
                out += hex_digits[static_cast<unsigned char>(c) & 0xf];
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

template <typename T>
void append_json_optional(std::string& out, const std::optional<T>& value) {
    out += value ? std::to_string(*value) : "null";
}

// Seconds since the epoch as the reader's local time, "2026-12-07 00:15:00".
std::string local_time_text(long long seconds) {
    const auto t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    if (localtime_r(&t, &tm) == nullptr) return "-";
    char text[32];
    if (std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm) == 0) return "-";
    return text;
}

enum TableColumn : std::size_t { name_column, state_column, pid_column, uptime_column, restarts_column,
                                 exit_column, health_column, next_run_column, overlap_column };

constexpr std::array<std::string_view, StatusTable::columns> column_titles = {
    "NAME", "STATE", "PID", "UPTIME", "RESTARTS", "LAST-EXIT", "HEALTH", "NEXT-RUN", "OVERLAP"};

}  // namespace

void StatusJson::add(const StatusRow& row, std::string& out) {
    out += started_ ? "," : "{\"services\":[";
    started_ = true;
    out += "{\"name\":";
    append_json_string(out, row.name);
    out += ",\"state\":";
    append_json_string(out, row.state);
    out += ",\"pid\":";
    append_json_optional(out, row.pid);
    out += ",\"restarts\":" + std::to_string(row.restarts);
    out += ",\"exit_status\":";
    append_json_optional(out, row.exit_status);
    out += ",\"uptime_ms\":";
    append_json_optional(out, row.uptime_ms);
    out += ",\"health\":";
    if (row.health.empty() || row.health == "-")
        out += "null";
    else
        append_json_string(out, row.health);
    out += ",\"next_run\":";
    append_json_optional(out, row.next_run);
    out += ",\"overlap\":";
    if (row.overlap_pid) {
        out += "{\"pid\":" + std::to_string(*row.overlap_pid) + ",\"role\":";
        append_json_string(out, row.overlap_role);
        out += '}';
    } else {
        out += "null";
    }
    out += '}';
}

void StatusJson::finish(std::string& out) {
    out += started_ ? "]}\n" : "{\"services\":[]}\n";
    started_ = false;
}

std::string status_json(const std::vector<StatusRow>& rows) {
    std::string out;
    StatusJson json;
    for (const auto& row : rows) json.add(row, out);
    json.finish(out);
    return out;
}

std::string format_uptime(long long milliseconds) {
    if (milliseconds < 0) return "-";
    const long long seconds = milliseconds / 1000;
    const long long minutes = seconds / 60;
    const long long hours = minutes / 60;
    const long long days = hours / 24;
    if (minutes == 0) return std::to_string(seconds) + "s";
    if (hours == 0) return std::to_string(minutes) + "m" + std::to_string(seconds % 60) + "s";
    if (days == 0) return std::to_string(hours) + "h" + std::to_string(minutes % 60) + "m";
    return std::to_string(days) + "d" + std::to_string(hours % 24) + "h";
}

StatusTable::StatusTable() {
    for (std::size_t column = 0; column < columns; ++column) widths_[column] = column_titles[column].size();
}

StatusTable::Cells StatusTable::cells_of(const StatusRow& row) {
    Cells cells;
    cells[name_column] = row.name;
    cells[state_column] = row.state;
    cells[pid_column] = row.pid ? std::to_string(*row.pid) : "-";
    cells[uptime_column] = row.uptime_ms ? format_uptime(*row.uptime_ms) : "-";
    cells[restarts_column] = std::to_string(row.restarts);
    cells[exit_column] = row.exit_status ? std::to_string(*row.exit_status) : "-";
    cells[health_column] = row.health.empty() ? "-" : row.health;
    cells[next_run_column] = row.next_run ? local_time_text(*row.next_run) : "-";
    cells[overlap_column] = row.overlap_pid ? std::to_string(*row.overlap_pid) + " " + row.overlap_role : "-";
    return cells;
}

void StatusTable::measure(const StatusRow& row) {
    shown_[health_column] = shown_[health_column] || (!row.health.empty() && row.health != "-");
    shown_[next_run_column] = shown_[next_run_column] || row.next_run.has_value();
    shown_[overlap_column] = shown_[overlap_column] || row.overlap_pid.has_value();
    const Cells cells = cells_of(row);
    for (std::size_t column = 0; column < columns; ++column)
        widths_[column] = std::max(widths_[column], cells[column].size());
}

template <typename Text>
void StatusTable::append_line(const std::array<Text, columns>& cells, std::string& out) const {
    std::size_t last = columns - 1;
    while (!shown_[last]) --last;
    for (std::size_t column = 0; column <= last; ++column) {
        if (!shown_[column]) continue;
        out += cells[column];
        if (column < last) out.append(widths_[column] - cells[column].size() + 2, ' ');
    }
    out += '\n';
}

void StatusTable::add(const StatusRow& row, std::string& out) {
    if (!header_written_) append_line(column_titles, out);
    header_written_ = true;
    append_line(cells_of(row), out);
}

void StatusTable::finish(std::string& out) {
    if (!header_written_) append_line(column_titles, out);
    header_written_ = false;
}

std::string status_table(const std::vector<StatusRow>& rows) {
    StatusTable table;
    for (const auto& row : rows) table.measure(row);
    std::string out;
    for (const auto& row : rows) table.add(row, out);
    table.finish(out);
    return out;
}

}  // namespace foster::control
