// service_request.hpp — a service's config turned into a SpawnRequest.
//
// Services start clean (foster(1), WHAT SERVICES GET): empty signal mask, every disposition
// default, fds 0-2 only, foster's environment minus its systemd variables
// plus the service's own. Pure: the descriptors for 0-2 are passed in.
#pragma once

#include <signal.h>

#include <array>
#include <string>
#include <vector>

#include "config.hpp"
#include "service_state.hpp"
#include "spawn.hpp"

namespace foster {

struct ServiceStdio {
    int in = -1;   // -1: foster's own
    int out = -1;
    int err = -1;
    // Files the child opens as the service's user (they win over out/err).
    std::string out_path{};
    std::string err_path{};
    bool err_copies_out = false;  // stderr = "stdout": wherever stdout ended up
};

// `base_environment` is already stripped of foster's systemd variables
// (service_environment()); `notify_address` is set for notify services.
SpawnRequest service_spawn_request(const ServiceConfig& config, const std::vector<std::string>& base_environment,
                                   const std::string& notify_address, const sigset_t& ignored_at_start,
                                   const ServiceStdio& stdio);

// The environment: base, then the service's entries overriding by name.
std::vector<std::string> merge_environment(const std::vector<std::string>& base,
                                           const std::vector<std::pair<std::string, std::string>>& overrides);

// What the state machine needs of a service's config.
service::Policy policy_of(const ServiceConfig& config);

}  // namespace foster
