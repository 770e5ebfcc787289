// STATUS= for systemctl status: counts by state, names of those in trouble.
#include <doctest/doctest.h>

#include "systemd_notifier.hpp"

using foster::ServiceSummary;
using foster::status_summary;
using foster::service::State;

namespace {

ServiceSummary svc(const char* name, State state, std::optional<int> exit = std::nullopt) {
    ServiceSummary s;
    s.name = name;
    s.state = state;
    s.exit_status = exit;
    return s;
}

}  // namespace

TEST_CASE("status summary: no services") { CHECK(status_summary({}) == "no services"); }

TEST_CASE("status summary: counts in a fixed order, zeros left out") {
    CHECK(status_summary({svc("a", State::stopped), svc("b", State::running), svc("c", State::running),
                          svc("d", State::exited, 0), svc("e", State::starting)}) ==
          "2 running, 1 starting, 1 exited, 1 stopped");
}

TEST_CASE("status summary: backoff says why, fatal names the service (the issue's example)") {
    CHECK(status_summary({svc("a", State::running), svc("b", State::running), svc("c", State::running),
                          svc("d", State::running), svc("web", State::backoff, 1), svc("db", State::fatal, 1)}) ==
          "4 running, 1 backoff (web: exit 1), 1 fatal (db)");
}

TEST_CASE("status summary: a service that cannot run, a signal death") {
    auto cannot = svc("x", State::backoff);
    cannot.exec_failed = true;
    CHECK(status_summary({cannot, svc("y", State::backoff, 137)}) == "2 backoff (x: cannot run, y: exit 137)");
}

TEST_CASE("status summary: at most three names, then an ellipsis") {
    CHECK(status_summary({svc("a", State::fatal), svc("b", State::fatal), svc("c", State::fatal),
                          svc("d", State::fatal)}) == "4 fatal (a, b, c, …)");
}

TEST_CASE("status summary: unhealthy services are counted apart") {
    auto sick = svc("web", State::running);
    sick.unhealthy = true;
    CHECK(status_summary({sick, svc("db", State::running)}) == "2 running, 1 unhealthy (web)");
}
