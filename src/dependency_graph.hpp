// dependency_graph.hpp — start order, stop order and cycles of `depends_on`.
//
// Pure functions on a graph of indices: no services, no config, no I/O, so they
// can be tested on their own and reused wherever an order is needed (start-up,
// shutdown, reload). Names only break ties, which makes every answer
// deterministic: the same file always starts in the same order.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace foster {

struct DependencyGraph {
    // One name per node; node i is names[i]. Used to break ties and nothing else.
    std::vector<std::string> names;
    // dependencies[i]: the nodes node i depends on (must be ready before it starts).
    // Duplicates are harmless; a node listing itself is a cycle of one.
    std::vector<std::vector<std::size_t>> dependencies;
};

// Every node after all of its dependencies; among nodes that could go next,
// the one with the smallest name goes first. Nodes on a cycle, or depending on
// one, cannot be ordered and are left out: a result shorter than names.size()
// means the graph has cycles (see find_cycles).
std::vector<std::size_t> start_order(const DependencyGraph& graph);

// start_order reversed: every node before the nodes it depends on, so a
// service is stopped while what it uses is still there.
std::vector<std::size_t> stop_order(const DependencyGraph& graph);

// One cycle per group of nodes that depend on each other (strongly connected
// component), as a path that begins with the group's smallest name and
// follows dependencies back to it: {a, b, c} means a -> b -> c -> a. A
// self-dependency is the cycle {a}. The cycles are sorted by their first name.
// Iterative, so a long dependency chain cannot exhaust the stack.
std::vector<std::vector<std::size_t>> find_cycles(const DependencyGraph& graph);

}  // namespace foster
