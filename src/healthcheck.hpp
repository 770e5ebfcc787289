// healthcheck.hpp — counting a service's probe results into its health.
//
// Pure bookkeeping (the supervisor runs the probes): `retries` failures in a
// row make a service unhealthy, one success makes it healthy again, and
// failures within `start_period` of the service's start do not count.
#pragma once

#include <chrono>

#include "config.hpp"
#include "event_loop.hpp"

namespace foster {

enum class Health { none, starting, healthy, unhealthy };

// "healthy", "unhealthy", "starting", or "-" for a service without a check.
const char* health_name(Health health);

class HealthTracker {
public:
    enum class Change { none, became_healthy, became_unhealthy };

    // A new run of the service began at `started`.
    void reset(TimePoint started);
    Change probe_finished(TimePoint now, bool success, const HealthCheck& check);

    [[nodiscard]] Health health() const { return health_; }
    [[nodiscard]] int failures() const { return failures_; }

private:
    Health health_ = Health::starting;
    int failures_ = 0;
    TimePoint started_{};
};

}  // namespace foster
