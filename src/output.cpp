#include "output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "log.hpp"

namespace foster {

namespace {

// Bytes read from one pipe per wakeup, at most: a service that never stops
// printing still lets the loop reap, answer and time out in between (the
// pipe stays readable, so the loop comes straight back).
constexpr std::size_t read_size = 64 * 1024;
constexpr int reads_per_wakeup = 8;
// A batch buffer bigger than this is given back after its wakeup: a burst
// must not leave every one of a thousand services holding half a megabyte.
constexpr std::size_t kept_capacity = 64 * 1024;

FileSinkSpec file_spec(const OutputTarget& target, const OutputSettings& settings) {
    return FileSinkSpec{target.path, target.max_size, target.backups, settings.credentials, settings.umask};
}

}  // namespace

std::string prefixed_line(std::string_view prefix, std::string_view line) {
    std::string out;
    out.reserve(prefix.size() + line.size() + 1);
    out += prefix;
    out += line;
    out += '\n';
    return out;
}

OutputSettings OutputSettings::of(const ServiceConfig& config) {
    return OutputSettings{*config.stdout_target, *config.stderr_target, config.timestamps,
                          config.credentials, config.umask, config.log_buffer.value_or(0) > 0};
}

bool foster_reads(const OutputTarget& target, const OutputSettings& settings) {
    switch (target.kind) {
        case OutputTarget::Kind::prefix: return true;
        case OutputTarget::Kind::file:
            return target.max_size || settings.timestamps != TimestampStyle::none || settings.keep_lines;
        case OutputTarget::Kind::null: return settings.keep_lines;
        default: return false;
    }
}

bool ServiceOutput::needed(const OutputSettings& settings) {
    return foster_reads(settings.out, settings) || foster_reads(settings.err, settings);
}

ServiceOutput::ServiceOutput(std::string name, OutputSettings settings, NonblockingWriter& stdout_writer,
                             NonblockingWriter& stderr_writer)
    : name_(std::move(name)), prefix_(name_ + " | "), settings_(std::move(settings)), stamper_(settings_.timestamps) {
    const std::array<const OutputTarget*, 2> targets{&settings_.out, &settings_.err};
    const std::array<NonblockingWriter*, 2> writers{&stdout_writer, &stderr_writer};
    for (std::size_t i = 0; i < 2; ++i) {
        const OutputTarget& t = *targets[i];
        reads_[i] = foster_reads(t, settings_);
        if (!reads_[i]) continue;
        if (t.kind == OutputTarget::Kind::null) {
            // read only to be kept (keep_lines): no sink but the buffer
        } else if (t.kind == OutputTarget::Kind::prefix) {
            prefix_to_[i] = writers[i];
        } else if (i == 1 && file_of_[0] != nullptr && files_[0]->spec().path == t.path) {
            file_of_[1] = file_of_[0];  // one file, one writer: lines stay whole and in order
        } else {
            files_[i] = std::make_unique<RotatingFile>(name_, file_spec(t, settings_));
            file_of_[i] = files_[i].get();
        }
    }
}

bool ServiceOutput::make_pipe(Stream stream) {
    Pipe& p = pipes_[index(stream)];
    if (p.read_end) return true;
    int ends[2];
    if (pipe2(ends, O_CLOEXEC | O_NONBLOCK) != 0) return false;
    p.read_end.reset(ends[0]);
    p.write_end.reset(ends[1]);
    // The service's end must block like any ordinary stdout: O_NONBLOCK is a
    // property of the open file description, so clear it on the write end.
    fcntl(p.write_end.get(), F_SETFL, 0);
    return true;
}

bool ServiceOutput::make_pipes() {
    for (const Stream s : {Stream::out, Stream::err})
        if (reads_[index(s)] && !make_pipe(s)) return false;
    return true;
}

std::string ServiceOutput::prepare() {
    for (const auto& file : files_)
        if (file && !file->reopen())
            return "cannot open " + file->spec().path + ": " +
                   (errno == EINVAL ? std::string("not a regular file") : log::errno_text(errno));
    return {};
}

int ServiceOutput::write_fd(Stream stream) const {
    const Pipe& p = pipes_[index(stream)];
    return reads_[index(stream)] && p.write_end ? p.write_end.get() : -1;
}

int ServiceOutput::read_fd(Stream stream) const {
    const Pipe& p = pipes_[index(stream)];
    return p.read_end ? p.read_end.get() : -1;
}

void ServiceOutput::deliver(const Line& line) {
    const std::size_t i = index(line.stream);
    const std::string_view stamp = stamper_.stamp(line.time);
    const std::string_view marker = marker_for(line.end);
    if (prefix_to_[i] != nullptr) {
        std::string& batch = prefix_batch_[i];
        batch += stamp;
        batch += prefix_;
        batch += line.text;
        batch += marker;
        batch += '\n';
    }
    if (file_of_[i] != nullptr) file_of_[i]->append_line(stamp, line.text, marker);
    if (buffer_ != nullptr) {
        const LogStream stream = line.stream == Stream::out ? LogStream::out : LogStream::err;
        if (marker.empty()) {
            buffer_->append(name_, stream, line.text, line.time.real_ms);
        } else {
            std::string marked(line.text);
            marked += marker;
            buffer_->append(name_, stream, marked, line.time.real_ms);
        }
    }
}

void ServiceOutput::drain(Stream stream) {
    read_lines(stream, reads_per_wakeup);
    end_batch();
}

// Up to `max_reads` reads; stops early when the pipe is empty.
void ServiceOutput::read_lines(Stream stream, int max_reads) {
    Pipe& p = pipes_[index(stream)];
    if (!p.read_end) return;
    char buf[read_size];
    for (int reads = 0; reads < max_reads;) {
        const ssize_t n = ::read(p.read_end.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // EAGAIN: drained
        ++reads;
        const LineTime time = LineTime::now();
        p.splitter.feed(std::string_view(buf, static_cast<std::size_t>(n)),
                        [&](std::string_view text, LineEnd end) { deliver(Line{stream, time, text, end}); });
    }
}

void ServiceOutput::flush_partial() {
    for (const Stream s : {Stream::out, Stream::err}) {
        Pipe& p = pipes_[index(s)];
        if (!p.read_end) continue;
        // What the run left in the pipe (a full pipe is 16 reads at most; a
        // process it left behind that goes on writing does not hold foster).
        read_lines(s, 16);
        const LineTime time = LineTime::now();
        p.splitter.flush([&](std::string_view text, LineEnd end) { deliver(Line{s, time, text, end}); });
    }
    end_batch();
}

std::string ServiceOutput::reopen_files() {
    std::string failures;
    for (const auto& file : files_) {
        if (!file || file->reopen()) continue;
        if (!failures.empty()) failures += "; ";
        failures += "cannot open " + file->spec().path + ": " +
                    (errno == EINVAL ? std::string("not a regular file") : log::errno_text(errno));
    }
    return failures;
}

void ServiceOutput::end_batch() {
    for (std::size_t i = 0; i < 2; ++i) {
        if (prefix_batch_[i].empty()) continue;
        prefix_to_[i]->write_lines(name_, prefix_batch_[i]);
        prefix_batch_[i].clear();
        if (prefix_batch_[i].capacity() > kept_capacity) std::string().swap(prefix_batch_[i]);
    }
    for (const auto& file : files_)
        if (file) file->flush();
}

}  // namespace foster
