// status_view.hpp — how fosterctl shows `status`: an aligned table for
// people, JSON for programs. Presentation only: the wire format (the rows
// foster sends) is control_protocol.hpp's.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "control_protocol.hpp"

namespace foster::control {

// fosterctl status --json: {"services":[{"name":…,"state":…,"pid":…|null,
// "restarts":…,"exit_status":…|null,"uptime_ms":…|null,"health":…|null,
// "next_run":…|null,"overlap":{"pid":…,"role":…}|null}]} on one line, '\n'
// included; health is null for "-" (no healthcheck); next_run is seconds since
// the epoch. Written a row at a time, so a caller can pass the text on in
// pieces: add() each row, then finish().
class StatusJson {
public:
    void add(const StatusRow& row, std::string& out);
    void finish(std::string& out);

private:
    bool started_ = false;
};
std::string status_json(const std::vector<StatusRow>& rows);

// fosterctl status: an aligned table, NAME STATE PID UPTIME RESTARTS LAST-EXIT,
// plus HEALTH when any row has a healthcheck, NEXT-RUN (local time,
// "2026-12-07 00:15:00") when any row has a schedule and OVERLAP ("PID ROLE")
// when any row is in an overlapping restart; columns two spaces apart, no
// trailing blanks, "-" for none. A column is as wide as its widest cell, so
// every row is measure()d first; then add() each row in the same order (the
// header comes with the first), then finish() (the header alone if no row).
class StatusTable {
public:
    static constexpr std::size_t columns = 9;
    StatusTable();
    void measure(const StatusRow& row);
    void add(const StatusRow& row, std::string& out);
    void finish(std::string& out);

private:
    using Cells = std::array<std::string, columns>;
    static Cells cells_of(const StatusRow& row);
    template <typename Text>
    void append_line(const std::array<Text, columns>& cells, std::string& out) const;
    std::array<std::size_t, columns> widths_{};
    std::array<bool, columns> shown_{true, true, true, true, true, true, false, false, false};
    bool header_written_ = false;
};
std::string status_table(const std::vector<StatusRow>& rows);
// Uptime for people: "45s", "3m12s", "2h5m", "3d4h" (rounded down).
std::string format_uptime(long long milliseconds);

}  // namespace foster::control
