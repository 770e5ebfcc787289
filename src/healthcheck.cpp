#include "healthcheck.hpp"

namespace foster {

const char* health_name(Health health) {
    switch (health) {
        case Health::none: return "-";
        case Health::starting: return "starting";
        case Health::healthy: return "healthy";
        case Health::unhealthy: return "unhealthy";
    }
    return "-";
}

void HealthTracker::reset(TimePoint started) {
    health_ = Health::starting;
    failures_ = 0;
    started_ = started;
}

HealthTracker::Change HealthTracker::probe_finished(TimePoint now, bool success, const HealthCheck& check) {
    if (success) {
        failures_ = 0;
        const bool changed = health_ != Health::healthy;
        health_ = Health::healthy;
        return changed ? Change::became_healthy : Change::none;
    }
    if (now < started_ + check.start_period) return Change::none;  // still warming up
    ++failures_;
    if (failures_ < check.retries || health_ == Health::unhealthy) return Change::none;
    health_ = Health::unhealthy;
    return Change::became_unhealthy;
}

}  // namespace foster
