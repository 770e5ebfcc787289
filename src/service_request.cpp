#include "service_request.hpp"

#include <algorithm>

namespace foster {

std::vector<std::string> merge_environment(const std::vector<std::string>& base,
                                           const std::vector<std::pair<std::string, std::string>>& overrides) {
    // Every service start and probe comes here; most have nothing to override.
    if (overrides.empty()) return base;
    std::vector<std::string> out;
    out.reserve(base.size() + overrides.size());
    for (const auto& entry : base) {
        const std::string_view name = std::string_view(entry).substr(0, entry.find('='));
        const bool overridden = std::any_of(overrides.begin(), overrides.end(),
                                            [&](const auto& kv) { return kv.first == name; });
        if (!overridden) out.push_back(entry);
    }
    for (const auto& [name, value] : overrides) out.push_back(name + "=" + value);
    return out;
}

SpawnRequest service_spawn_request(const ServiceConfig& config, const std::vector<std::string>& base_environment,
                                   const std::string& notify_address, const sigset_t& ignored_at_start,
                                   const ServiceStdio& stdio) {
    SpawnRequest r;
    r.argv = config.argv;
    auto overrides = config.environment;
    if (config.type == ServiceType::notify && !notify_address.empty())
        overrides.emplace_back("NOTIFY_SOCKET", notify_address);
    r.envp = merge_environment(base_environment, overrides);
    r.group = ProcessGroup::new_session;
    r.take_terminal = false;
    sigemptyset(&r.mask);
    r.reset_to_default = ignored_at_start;
    r.stdio[0].source = stdio.in;
    r.stdio[1].source = stdio.out;
    r.stdio[2].source = stdio.err;
    r.stdio[1].open_path = stdio.out_path;
    r.stdio[2].open_path = stdio.err_path;
    r.stdio[2].copy_of_stdout = stdio.err_copies_out;
    r.working_directory = config.working_directory;
    r.umask = config.umask;
    r.process = *config.process;
    if (config.credentials) r.ids = SpawnRequest::Ids{config.credentials->uid, config.credentials->gid, config.credentials->groups};
    return r;
}

service::Policy policy_of(const ServiceConfig& c) {
    service::Policy p;
    p.type = c.type == ServiceType::oneshot ? service::Type::oneshot
             : c.type == ServiceType::notify ? service::Type::notify
                                             : service::Type::simple;
    p.restart = c.restart == RestartPolicy::no       ? service::Restart::no
                : c.restart == RestartPolicy::always ? service::Restart::always
                                                     : service::Restart::on_failure;
    p.restart_delay = c.restart_delay;
    p.restart_delay_max = c.restart_delay_max;
    p.min_uptime = c.min_uptime;
    p.start_limit_burst = static_cast<unsigned>(c.start_limit_burst);
    p.start_limit_interval = c.start_limit_interval;
    p.success_exit_codes = c.success_exit_codes;
    p.stop_signal = c.stop_signal;
    p.stop_timeout = c.stop_timeout;
    p.is_main = c.main;
    return p;
}

}  // namespace foster
