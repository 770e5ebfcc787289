#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "dependency_graph.hpp"

using foster::DependencyGraph;

namespace {

// Names of `order`'s nodes, for readable comparisons.
std::vector<std::string> names_of(const DependencyGraph& graph, const std::vector<std::size_t>& order) {
    std::vector<std::string> names;
    for (const std::size_t i : order) names.push_back(graph.names[i]);
    return names;
}

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("without dependencies the order is by name") {
    const DependencyGraph graph{{"web", "db", "cache"}, {{}, {}, {}}};
    CHECK(names_of(graph, foster::start_order(graph)) == Names{"cache", "db", "web"});
    CHECK(names_of(graph, foster::stop_order(graph)) == Names{"web", "db", "cache"});
    CHECK(foster::find_cycles(graph).empty());
}

TEST_CASE("dependencies come first, ties by name") {
    // web -> {db, migrate}, migrate -> db, worker -> db, alpha alone.
    const DependencyGraph graph{{"web", "db", "migrate", "worker", "alpha"},
                                {{1, 2}, {}, {1}, {1}, {}}};
    CHECK(names_of(graph, foster::start_order(graph)) ==
          Names{"alpha", "db", "migrate", "web", "worker"});
    CHECK(names_of(graph, foster::stop_order(graph)) ==
          Names{"worker", "web", "migrate", "db", "alpha"});
}

TEST_CASE("a node waits for its last dependency even when its name is smaller") {
    const DependencyGraph graph{{"a", "z", "m"}, {{1}, {2}, {}}};
    CHECK(names_of(graph, foster::start_order(graph)) == Names{"m", "z", "a"});
}

TEST_CASE("duplicate dependencies count once") {
    const DependencyGraph graph{{"a", "b"}, {{1, 1, 1}, {}}};
    CHECK(names_of(graph, foster::start_order(graph)) == Names{"b", "a"});
}

TEST_CASE("a cycle is reported once, from its smallest name, and left out of the order") {
    // c -> a -> b -> c, and d depends on the cycle; e is independent.
    const DependencyGraph graph{{"c", "a", "b", "d", "e"}, {{1}, {2}, {0}, {0}, {}}};
    const auto cycles = foster::find_cycles(graph);
    REQUIRE(cycles.size() == 1);
    CHECK(names_of(graph, cycles[0]) == Names{"a", "b", "c"});
    CHECK(names_of(graph, foster::start_order(graph)) == Names{"e"});
}

TEST_CASE("separate cycles are all found, sorted by first name") {
    const DependencyGraph graph{{"y", "x", "b", "a", "self"}, {{1}, {0}, {3}, {2}, {4}}};
    const auto cycles = foster::find_cycles(graph);
    REQUIRE(cycles.size() == 3);
    CHECK(names_of(graph, cycles[0]) == Names{"a", "b"});
    CHECK(names_of(graph, cycles[1]) == Names{"self"});
    CHECK(names_of(graph, cycles[2]) == Names{"x", "y"});
}

TEST_CASE("the cycle shown is a shortest one through the smallest name") {
    // a -> b -> c -> d -> a and a shortcut c -> a: the path a b c suffices.
    const DependencyGraph graph{{"a", "b", "c", "d"}, {{1}, {2}, {3, 0}, {0}}};
    const auto cycles = foster::find_cycles(graph);
    REQUIRE(cycles.size() == 1);
    CHECK(names_of(graph, cycles[0]) == Names{"a", "b", "c"});
}

TEST_CASE("a long chain neither recurses deeply nor loses order") {
    constexpr std::size_t n = 200'000;
    DependencyGraph graph;
    for (std::size_t i = 0; i < n; ++i) {
        // names run against the chain; appended, not `"s" + to_string(...)`,
        // which GCC 12 at -O3 flags with a false -Wrestrict (GCC bug 105329)
        graph.names.push_back(std::string("s").append(std::to_string(n - i)));
        graph.dependencies.push_back(i + 1 < n ? std::vector<std::size_t>{i + 1}
                                               : std::vector<std::size_t>{});
    }
    const auto order = foster::start_order(graph);
    REQUIRE(order.size() == n);
    CHECK(order.front() == n - 1);
    CHECK(order.back() == 0);
    CHECK(foster::find_cycles(graph).empty());

    graph.dependencies.back().push_back(0);  // close the chain into one big cycle
    const auto cycles = foster::find_cycles(graph);
    REQUIRE(cycles.size() == 1);
    CHECK(cycles[0].size() == n);
    CHECK(foster::start_order(graph).empty());
}

TEST_CASE("indices out of range are ignored") {
    const DependencyGraph graph{{"a"}, {{7}}};
    CHECK(names_of(graph, foster::start_order(graph)) == Names{"a"});
}
