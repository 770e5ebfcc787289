// ServiceIndex: the runner's services by the names they answer to, and who
// depends on whom (service_index.hpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "config.hpp"
#include "service_index.hpp"
#include "service_request.hpp"
#include "supervisor.hpp"

using namespace foster;

namespace {

// The services of a config as the runner holds them, in start order.
std::vector<std::unique_ptr<Service>> services_of(const std::string& text) {
    auto result = parse_config(text, "f.toml");
    std::string errors;
    for (const auto& e : result.errors) errors += e.to_string() + "\n";
    INFO(errors);
    REQUIRE(result.config);
    std::vector<std::unique_ptr<Service>> services;
    for (std::size_t index : result.config->start_order) {
        ServiceConfig& c = result.config->services[index];
        auto policy = std::make_shared<const service::Policy>(policy_of(c));
        services.push_back(std::make_unique<Service>(std::move(c), policy));
    }
    return services;
}

std::vector<std::string> names(std::span<Service* const> services) {
    std::vector<std::string> out;
    for (const Service* s : services) out.push_back(s->config.name);
    return out;
}

std::vector<std::string> dependents(const ServiceIndex& index, const Service* s) {
    std::vector<std::string> out;
    for (const auto& edge : index.dependents_of(*s)) out.push_back(edge.second->config.name);
    return out;
}

const char* const config_text =
    "[services.db]\ncommand = \"db\"\n"
    "[services.web]\ncommand = \"web\"\ninstances = 12\ndepends_on = [\"db\"]\n"
    "[services.proxy]\ncommand = \"proxy\"\ndepends_on = [\"web\", \"db\"]\n"
    "[services.cron]\ncommand = \"cron\"\ndepends_on = [\"web@3\"]\n";

}  // namespace

TEST_CASE("ServiceIndex: a name, a table's instances in start order, removed services left out") {
    auto services = services_of(config_text);
    ServiceIndex index;
    index.rebuild(services);
    REQUIRE(index.named("db") != nullptr);
    CHECK(index.named("db")->config.name == "db");
    CHECK(index.named("web@10")->config.name == "web@10");
    CHECK(index.named("web") == nullptr);  // a table, not a service
    CHECK(index.named("nope") == nullptr);
    CHECK(index.named("") == nullptr);
    // In the order of the services given (the start order), as fosterctl lists them.
    std::vector<std::string> in_start_order;
    for (const auto& s : services)
        if (s->config.instance_of == "web") in_start_order.push_back(s->config.name);
    REQUIRE(in_start_order.size() == 12);
    CHECK(names(index.instances_of("web")) == in_start_order);
    CHECK(index.instances_of("db").empty());
    CHECK(index.instances_of("").empty());
    CHECK(index.instances_of("we").empty());

    Service* db = index.named("db");
    Service* web3 = index.named("web@3");
    db->removing = true;
    web3->removing = true;
    index.rebuild(services);
    CHECK(index.named("db") == nullptr);
    CHECK(index.named("web@3") == nullptr);
    CHECK(index.instances_of("web").size() == 11);
}

TEST_CASE("ServiceIndex: dependents by name and by table, removed ones included") {
    auto services = services_of(config_text);
    ServiceIndex index;
    index.rebuild(services);
    Service* db = index.named("db");
    const auto of_db = dependents(index, db);
    CHECK(of_db.size() == 13);  // every instance of web, and proxy
    CHECK(std::count(of_db.begin(), of_db.end(), "proxy") == 1);
    // web@3 is needed by proxy (through its table) and by cron (by its name).
    auto of_web3 = dependents(index, index.named("web@3"));
    std::sort(of_web3.begin(), of_web3.end());
    CHECK(of_web3 == std::vector<std::string>{"cron", "proxy"});
    CHECK(dependents(index, index.named("web@4")) == std::vector<std::string>{"proxy"});
    CHECK(dependents(index, index.named("cron")).empty());
    // A service removed by a reload still stops after what depends on it.
    Service* proxy = index.named("proxy");
    proxy->removing = true;
    db->removing = true;
    index.rebuild(services);
    const auto of_removed_db = dependents(index, db);
    CHECK(std::count(of_removed_db.begin(), of_removed_db.end(), "proxy") == 1);
    CHECK(dependents(index, proxy).empty());
}
