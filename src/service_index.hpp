// service_index.hpp — the services of the runner by the names they answer to
// (instances.hpp: its own name, or its table's for an instance).
//
// Asking every service whether it answers to a name made the runner's
// cross-service work quadratic or worse: each dependency of each service
// waiting to start scanned every service, at every event, so a chain of 2,000
// services, each depending on the one before, took 31 s to start (26 s of
// foster's CPU; 1,000 took 3.8 s, 500 took 1 s), and fosterctl naming N
// services scanned N times. The index answers in a binary search. It holds
// pointers only, sorted by name, 8 bytes a service (the 10,000-service memory
// target is close, bench/README.md), and leaves removed services out. The
// Supervisor makes it again after any change to its services or to one's
// `removing` (Supervisor::index()).
#pragma once

#include <memory>
#include <span>
#include <utility>
#include <string_view>
#include <vector>

namespace foster {

struct Service;

class ServiceIndex {
public:
    void rebuild(const std::vector<std::unique_ptr<Service>>& services);

    // The service of that name, or nullptr.
    [[nodiscard]] Service* named(std::string_view name) const;
    // The instances of the table of that name, in the order of the list
    // rebuild() was given (none for a name that is no table with `instances`).
    [[nodiscard]] std::span<Service* const> instances_of(std::string_view table) const;

    // Each (dependency, dependent) pair: `dependent` names `dependency` (or
    // its table) in depends_on. Removed services count on both sides, as
    // they stop in order too. Made on the first call after a rebuild: only
    // the shutdown asks (Supervisor::advance_shutdown).
    using Edge = std::pair<const Service*, Service*>;
    [[nodiscard]] std::span<const Edge> dependents_of(const Service& dependency) const;

private:
    const std::vector<std::unique_ptr<Service>>* services_ = nullptr;
    std::vector<Service*> by_name_;   // sorted by config.name
    std::vector<Service*> by_table_;  // instances only, sorted by instance_of
    mutable std::vector<Edge> dependents_;  // sorted by dependency
    mutable bool dependents_made_ = false;
};

}  // namespace foster
