#include "log_buffer.hpp"

#include <time.h>

#include <algorithm>

namespace foster {

std::string_view stream_name(LogStream stream) {
    switch (stream) {
        case LogStream::out: return "stdout";
        case LogStream::err: return "stderr";
        case LogStream::syslog: return "syslog";
    }
    return "stdout";
}

std::optional<LogStream> parse_stream(std::string_view name) {
    for (auto s : {LogStream::out, LogStream::err, LogStream::syslog})
        if (stream_name(s) == name) return s;
    return std::nullopt;
}

std::int64_t realtime_now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

LogRing::LogRing(std::size_t max_lines) : max_lines_(max_lines) {}

const std::deque<LogLine>& LogRing::lines() const {
    static const std::deque<LogLine> none;
    return lines_ ? *lines_ : none;
}

void LogRing::push(LogLine line) {
    if (max_lines_ == 0) return;
    if (!lines_) lines_.emplace();
    bytes_ += line.text.size();
    lines_->push_back(std::move(line));
    trim();
}

void LogRing::resize(std::size_t max_lines) {
    max_lines_ = max_lines;
    trim();
    if (max_lines_ == 0) lines_.reset();
}

void LogRing::trim() {
    if (!lines_) return;
    auto& lines = *lines_;
    while (!lines.empty() && (lines.size() > max_lines_ || (bytes_ > max_bytes() && lines.size() > 1))) {
        bytes_ -= lines.front().text.size();
        lines.pop_front();
    }
    if (lines.empty()) bytes_ = 0;
}

void LogBuffer::configure(const std::string& service, std::size_t max_lines) {
    auto [it, added] = services_.try_emplace(service, ServiceLog{LogRing(max_lines)});
    if (!added) it->second.ring.resize(max_lines);
}

void LogBuffer::keep_only(const std::vector<std::string>& services) {
    // Sorted once, looked up per entry: ten thousand services against ten
    // thousand names is a binary search each, not a scan.
    std::vector<std::string_view> keep(services.begin(), services.end());
    std::sort(keep.begin(), keep.end());
    std::erase_if(services_, [&](const auto& entry) {
        return !std::binary_search(keep.begin(), keep.end(), std::string_view(entry.first));
    });
}

void LogBuffer::new_run(const std::string& service) {
    if (auto it = services_.find(service); it != services_.end()) ++it->second.run;
}

void LogBuffer::configure_syslog(std::size_t max_lines) { syslog_.resize(max_lines); }

void LogBuffer::append(std::string_view name, LogStream stream, std::string_view text, std::int64_t time_ms,
                       int priority) {
    LogRing* ring = nullptr;
    std::uint32_t run = 0;
    if (stream == LogStream::syslog) {
        ring = &syslog_;
    } else if (auto it = services_.find(name); it != services_.end()) {
        ring = &it->second.ring;
        run = it->second.run;
    }
    if (ring == nullptr || ring->max_lines() == 0) return;
    LogLine line{next_seq_++, time_ms, std::string(name), stream, run, priority, std::string(text)};
    if (listener_) listener_(line);
    ring->push(std::move(line));
}

const LogRing* LogBuffer::ring(const std::string& service) const {
    const auto it = services_.find(service);
    return it == services_.end() ? nullptr : &it->second.ring;
}

bool LogBuffer::wanted(const LogLine& line, const std::vector<std::string>& names) {
    return names.empty() || std::find(names.begin(), names.end(), line.name) != names.end();
}

LogBuffer::Selection LogBuffer::select(const LogQuery& query) const {
    Selection out;
    for (const auto& name : query.names) {
        const auto it = services_.find(name);
        if (it == services_.end() && !keeps_syslog()) {
            out.error = "unknown service '" + name + "'";
            return out;
        }
        // A service that keeps nothing may still have syslog lines under its name (cron's daemon).
        if (it != services_.end() && it->second.ring.max_lines() == 0 && !keeps_syslog()) {
            out.error = name + " keeps no output in memory (its output does not pass through foster, or log_buffer = 0)";
            return out;
        }
    }
    auto take = [&](const LogRing& ring) {
        for (const auto& line : ring.lines())
            if (wanted(line, query.names) && (!query.since_ms || line.time_ms >= *query.since_ms))
                out.lines.push_back(&line);
    };
    for (const auto& [name, log] : services_) take(log.ring);
    take(syslog_);
    std::sort(out.lines.begin(), out.lines.end(), [](const LogLine* a, const LogLine* b) { return a->seq < b->seq; });
    if (query.last && out.lines.size() > *query.last)
        out.lines.erase(out.lines.begin(), out.lines.end() - static_cast<std::ptrdiff_t>(*query.last));
    return out;
}

}  // namespace foster
