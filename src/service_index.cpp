#include "service_index.hpp"

#include <algorithm>

#include "supervisor.hpp"

namespace foster {

namespace {

std::string_view name_of(const Service* s) { return s->config.name; }
std::string_view table_of(const Service* s) { return s->config.instance_of; }

}  // namespace

void ServiceIndex::rebuild(const std::vector<std::unique_ptr<Service>>& services) {
    services_ = &services;
    by_name_.clear();
    by_table_.clear();
    std::vector<Edge>().swap(dependents_);
    dependents_made_ = false;
    for (const auto& s : services) {
        if (s->removing) continue;
        by_name_.push_back(s.get());
        if (!s->config.instance_of.empty()) by_table_.push_back(s.get());
    }
    std::sort(by_name_.begin(), by_name_.end(), [](const Service* a, const Service* b) { return name_of(a) < name_of(b); });
    // Within a table, the order of `services` (the start order), in which
    // fosterctl lists a table's instances.
    std::stable_sort(by_table_.begin(), by_table_.end(),
                     [](const Service* a, const Service* b) { return table_of(a) < table_of(b); });
    // Sized to what they hold: rebuilt after every reload, they must not keep
    // the capacity of a larger config.
    by_name_.shrink_to_fit();
    by_table_.shrink_to_fit();
}

Service* ServiceIndex::named(std::string_view name) const {
    const auto it = std::lower_bound(by_name_.begin(), by_name_.end(), name,
                                     [](const Service* s, std::string_view n) { return name_of(s) < n; });
    return it != by_name_.end() && name_of(*it) == name ? *it : nullptr;
}

std::span<Service* const> ServiceIndex::instances_of(std::string_view table) const {
    const auto first = std::lower_bound(by_table_.begin(), by_table_.end(), table,
                                        [](const Service* s, std::string_view t) { return table_of(s) < t; });
    const auto last = std::upper_bound(first, by_table_.end(), table,
                                       [](std::string_view t, const Service* s) { return t < table_of(s); });
    return {first, last};
}

std::span<const ServiceIndex::Edge> ServiceIndex::dependents_of(const Service& dependency) const {
    if (!dependents_made_) {
        // Every service, removed ones too, by each name it answers to.
        std::vector<std::pair<std::string_view, const Service*>> answering;
        for (const auto& s : *services_) {
            answering.emplace_back(name_of(s.get()), s.get());
            if (!s->config.instance_of.empty()) answering.emplace_back(table_of(s.get()), s.get());
        }
        std::sort(answering.begin(), answering.end());
        for (const auto& s : *services_)
            for (const auto& dep : s->config.depends_on)
                for (auto it = std::lower_bound(answering.begin(), answering.end(),
                                                std::pair<std::string_view, const Service*>(dep, nullptr));
                     it != answering.end() && it->first == dep; ++it)
                    dependents_.emplace_back(it->second, s.get());
        std::sort(dependents_.begin(), dependents_.end());
        dependents_made_ = true;
    }
    const auto first = std::lower_bound(dependents_.begin(), dependents_.end(), Edge(&dependency, nullptr));
    auto last = first;
    while (last != dependents_.end() && last->first == &dependency) ++last;
    return {first, last};
}

}  // namespace foster
