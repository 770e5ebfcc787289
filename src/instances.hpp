// instances.hpp — `instances = N`: one service table, N services named
// NAME@1 … NAME@N (foster.toml(5), INSTANCES).
//
// The config expands a table with `instances` into N ServiceConfigs when it is
// loaded; from then on each instance is a service like any other, with its own
// state, restarts and health. What still knows about the group is here: the
// name, the `%i` expansion, and the rule that a name given in `depends_on` or
// to fosterctl as the table's name stands for every instance.
#pragma once

#include <string>
#include <string_view>

namespace foster {

struct ServiceConfig;

// The most `instances` one table may ask for.
inline constexpr int max_instances = 1000;

// "web@2".
std::string instance_name(std::string_view base, int instance);

// `%i` becomes the instance number, `%%` a single '%'; any other '%' is left
// as written (so `date +%s` needs no escaping).
std::string expand_instance(std::string_view text, int instance);

// Whether `name` (from depends_on or fosterctl) names this service: its own
// name, or the name of the table it is an instance of.
bool answers_to(const ServiceConfig& config, std::string_view name);

}  // namespace foster
