// supervisor_logs.cpp — the supervisor's side of the in-memory recent output
// (log_buffer.hpp): which services keep lines, and how many.
#include "supervisor.hpp"

#include "log.hpp"

namespace foster {

namespace {

constexpr const char* syslog_path = "/dev/log";

// Lines pass through foster for a `prefix` output, a file foster rotates
// or stamps, and a file or null output with an explicit `log_buffer`;
// otherwise the service writes to its target itself (output.hpp).
bool passes_through_foster(const ServiceConfig& c) {
    return ServiceOutput::needed(OutputSettings::of(c));
}

}  // namespace

void Supervisor::configure_logs() {
    std::vector<std::string> names;
    for (const auto& s : services_) {
        const std::size_t lines = passes_through_foster(s->config) ? s->config.log_buffer.value_or(config_.log_buffer) : 0;
        log_buffer_.configure(s->config.name, lines);
        names.push_back(s->config.name);
    }
    log_buffer_.keep_only(names);
    log_buffer_.configure_syslog(syslog_ ? config_.log_buffer : 0);
}

void Supervisor::open_syslog() {
    if (!config_.syslog.value_or(serve_syslog_by_default(inheritance_.pid, syslog_path))) return;
    std::string error;
    syslog_ = SyslogSource::open(
        syslog_path, loop_, [this](const SyslogMessage& m, std::int64_t time_ms) { deliver_syslog(m, time_ms); },
        error);
    if (!syslog_) {
        // Serving syslog is a convenience: foster runs its services without it.
        log::error(error + "; syslog messages do not reach foster");
        return;
    }
    log_buffer_.configure_syslog(config_.log_buffer);
    log::debug(std::string("serving syslog on ") + syslog_path);
}

// Each line of the message as "TAG | line" on foster's stdout, as a prefix
// service's, and into the buffer under the tag.
void Supervisor::deliver_syslog(const SyslogMessage& message, std::int64_t time_ms) {
    std::string_view text = message.text;
    std::string out;
    while (true) {
        const auto nl = text.find('\n');
        const auto line = text.substr(0, nl);
        out += message.name;
        out += " | ";
        out += line;
        out += '\n';
        log_buffer_.append(message.name, LogStream::syslog, line, time_ms, message.priority);
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    stdout_writer_.write_lines(message.name, out);
}

void Supervisor::keep_output(Service& s) {
    if (s.output) s.output->keep_lines_in(log_buffer_);
}

}  // namespace foster
