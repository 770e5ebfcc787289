// `instances = N` (instances.hpp) and `schedule` as the config reads them.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "config.hpp"
#include "instances.hpp"

using foster::expand_instance;

namespace {

foster::Config load(const std::string& text) {
    auto result = foster::parse_config(text, "f.toml");
    std::string errors;
    for (const auto& e : result.errors) errors += e.to_string() + "\n";
    INFO(errors);
    REQUIRE(result.config);
    return *result.config;
}

std::vector<std::string> start_order_names(const foster::Config& c) {
    std::vector<std::string> names;
    for (const auto i : c.start_order) names.push_back(c.services[i].name);
    return names;
}

}  // namespace

TEST_CASE("%i and %%") {
    CHECK(expand_instance("worker-%i", 3) == "worker-3");
    CHECK(expand_instance("%i%i", 12) == "1212");
    CHECK(expand_instance("100%%", 1) == "100%");
    CHECK(expand_instance("%%i", 7) == "%i");  // an escaped % before i
    CHECK(expand_instance("date +%s", 1) == "date +%s");  // any other % as written
    CHECK(expand_instance("50%", 1) == "50%");
    CHECK(foster::instance_name("web", 10) == "web@10");
}

TEST_CASE("instances: one service per instance, %i expanded where the service's own text goes") {
    const auto c = load(R"([services.web]
instances = 3
command = ["/bin/srv", "--id=%i", "100%%"]
environment = { ID = "%i", LITERAL = "%s" }
working_directory = "/srv/%i"
stdout = "/var/log/web-%i.log"
stderr = "/var/log/web-%i.err"
pre_start = ["/bin/pre", "%i"]
post_stop = ["/bin/post", "%i"]
stop_command = ["/bin/stop", "%i"]
healthcheck = { command = ["/bin/check", "%i"] }
)");
    REQUIRE(c.services.size() == 3);
    for (int i = 1; i <= 3; ++i) {
        const auto& s = c.services[static_cast<std::size_t>(i - 1)];
        const std::string n = std::to_string(i);
        CHECK(s.name == "web@" + n);
        CHECK(s.instance_of == "web");
        CHECK(s.instance == i);
        CHECK(s.argv == std::vector<std::string>{"/bin/srv", "--id=" + n, "100%"});
        CHECK(s.environment == std::vector<std::pair<std::string, std::string>>{{"ID", n}, {"LITERAL", "%s"}});
        CHECK(s.working_directory == "/srv/" + n);
        CHECK(s.stdout_target->path == "/var/log/web-" + n + ".log");
        CHECK(s.stderr_target->path == "/var/log/web-" + n + ".err");
        CHECK(s.hooks->pre_start.back() == n);
        CHECK(s.hooks->post_stop.back() == n);
        CHECK(s.hooks->stop_command.back() == n);
        CHECK(s.healthcheck->argv.back() == n);
        CHECK(foster::answers_to(s, "web"));
        CHECK(foster::answers_to(s, "web@" + n));
        CHECK_FALSE(foster::answers_to(s, "web@9"));
    }
}

TEST_CASE("without instances, % is left alone") {
    const auto c = load("[services.s]\ncommand = \"date +%s %i %%\"\n");
    CHECK(c.services[0].argv.back() == "date +%s %i %%");
    CHECK(c.services[0].instance_of.empty());
    CHECK(c.services[0].instance == 0);
}

TEST_CASE("instances: depends_on the table's name waits for every instance; NAME@N for one") {
    const auto c = load(R"([services.after]
command = "x"
depends_on = ["web"]
[services.one]
command = "x"
depends_on = ["web@2"]
[services.web]
instances = 10
command = "x"
)");
    const auto order = start_order_names(c);
    const auto position = [&](const std::string& name) {
        return std::find(order.begin(), order.end(), name) - order.begin();
    };
    for (int i = 1; i <= 10; ++i) CHECK(position("web@" + std::to_string(i)) < position("after"));
    CHECK(position("web@2") < position("one"));
    // The instances in number order: web@2 before web@10.
    std::vector<std::string> names;
    for (const auto& s : c.services) names.push_back(s.name);
    CHECK(std::find(names.begin(), names.end(), "web@2") < std::find(names.begin(), names.end(), "web@10"));
}

TEST_CASE("instances: changing N leaves the instances that remain equal") {
    const auto three = load("[services.w]\ninstances = 3\ncommand = \"x %i\"\n");
    const auto two = load("[services.w]\ninstances = 2\ncommand = \"x %i\"\n");
    CHECK(three.services[0] == two.services[0]);
    CHECK(three.services[1] == two.services[1]);
}

TEST_CASE("schedule: defaults of a scheduled service") {
    const auto c = load("[services.s]\ntype = \"oneshot\"\nschedule = \"*/15 * * * *\"\ncommand = \"x\"\n");
    const auto& s = c.services[0];
    REQUIRE(s.schedule);
    CHECK(s.schedule->text == "*/15 * * * *");
    CHECK_FALSE(s.autostart);  // not started with foster
    CHECK(s.restart == foster::RestartPolicy::no);
    const auto given = load("[services.s]\ntype = \"oneshot\"\nschedule = \"every 1h\"\nautostart = true\n"
                            "restart = \"on-failure\"\ncommand = \"x\"\n");
    CHECK(given.services[0].autostart);
    CHECK(given.services[0].restart == foster::RestartPolicy::on_failure);
    CHECK(given.services[0].schedule->every == foster::Millis{3'600'000});
}
