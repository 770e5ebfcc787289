#include "full_build.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <string>

#include "log.hpp"

namespace foster::full_build {

namespace {

std::string self_dir() {
    std::array<char, 4096> buffer{};
    const ssize_t n = ::readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
    if (n <= 0) return {};  // no /proc: only the configured path is tried
    std::string path(buffer.data(), static_cast<std::size_t>(n));
    const auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

bool is_executable_file(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::vector<std::string> candidates(const std::string& dir) {
    std::vector<std::string> out;
    if (!dir.empty()) {
        out.push_back(dir + "/libexec/foster");
        out.push_back(dir + "/../libexec/foster/foster");
    }
    out.emplace_back(FOSTER_FULL_BUILD_PATH);
    return out;
}

bool wanted(const Options& options) {
    // --check too: it must judge the file as the service runner would.
    if (options.show_help || options.show_version) return false;
    return options.config_path.has_value() || log::stderr_is_the_journal();
}

std::string find() {
    for (const auto& path : candidates(self_dir()))
        if (is_executable_file(path)) return path;
    return {};
}

void exec(char** argv, char** envp) {
    for (const auto& path : candidates(self_dir())) ::execve(path.c_str(), argv, envp);
}

}  // namespace foster::full_build
