#include "dependency_graph.hpp"

#include <algorithm>
#include <functional>
#include <queue>
#include <utility>

namespace foster {

namespace {

constexpr std::size_t none = static_cast<std::size_t>(-1);

using Edges = std::vector<std::vector<std::size_t>>;

// The dependencies of each node without duplicates or out-of-range indices,
// sorted by name: the order in which every walk below visits them, so that
// every result is the same for the same graph.
Edges sorted_edges(const DependencyGraph& graph) {
    const std::size_t n = graph.names.size();
    const auto by_name = [&](std::size_t a, std::size_t b) {
        return std::tie(graph.names[a], a) < std::tie(graph.names[b], b);
    };
    Edges edges(n);
    for (std::size_t i = 0; i < n && i < graph.dependencies.size(); ++i) {
        for (std::size_t d : graph.dependencies[i])
            if (d < n) edges[i].push_back(d);
        std::sort(edges[i].begin(), edges[i].end(), by_name);
        edges[i].erase(std::unique(edges[i].begin(), edges[i].end()), edges[i].end());
    }
    return edges;
}

// Tarjan's strongly connected components, with an explicit stack instead of
// recursion. Returns the component number of every node.
std::vector<std::size_t> components(const Edges& edges) {
    const std::size_t n = edges.size();
    std::vector<std::size_t> index(n, none), low(n, 0), component(n, none);
    std::vector<bool> on_stack(n, false);
    std::vector<std::size_t> stack;
    std::vector<std::pair<std::size_t, std::size_t>> calls;  // node, next edge
    std::size_t next_index = 0, next_component = 0;

    for (std::size_t root = 0; root < n; ++root) {
        if (index[root] != none) continue;
        calls.emplace_back(root, 0);
        while (!calls.empty()) {
            auto& [node, edge] = calls.back();
            if (edge == 0 && index[node] == none) {
                index[node] = low[node] = next_index++;
                stack.push_back(node);
                on_stack[node] = true;
            }
            if (edge < edges[node].size()) {
                const std::size_t next = edges[node][edge++];
                if (index[next] == none)
                    calls.emplace_back(next, 0);
                else if (on_stack[next])
                    low[node] = std::min(low[node], index[next]);
                continue;
            }
            const std::size_t done = node;
            calls.pop_back();
            if (low[done] == index[done]) {
                std::size_t member = none;
                do {
                    member = stack.back();
                    stack.pop_back();
                    on_stack[member] = false;
                    component[member] = next_component;
                } while (member != done);
                ++next_component;
            }
            if (!calls.empty()) {
                const std::size_t parent = calls.back().first;
                low[parent] = std::min(low[parent], low[done]);
            }
        }
    }
    return component;
}

// The shortest path from `start` through its own component back to `start`
// (breadth first, dependencies in name order), without repeating `start`.
std::vector<std::size_t> cycle_through(std::size_t start, const Edges& edges,
                                       const std::vector<std::size_t>& component) {
    std::vector<std::size_t> parent(edges.size(), none);
    std::vector<bool> seen(edges.size(), false);
    std::queue<std::size_t> queue;
    queue.push(start);
    seen[start] = true;
    while (!queue.empty()) {
        const std::size_t node = queue.front();
        queue.pop();
        for (std::size_t next : edges[node]) {
            if (next == start) {
                std::vector<std::size_t> path;
                for (std::size_t at = node; at != none; at = parent[at]) path.push_back(at);
                std::reverse(path.begin(), path.end());
                return path;
            }
            if (component[next] != component[start] || seen[next]) continue;
            seen[next] = true;
            parent[next] = node;
            queue.push(next);
        }
    }
    return {};  // unreachable for a node on a cycle
}

}  // namespace

std::vector<std::size_t> start_order(const DependencyGraph& graph) {
    const Edges edges = sorted_edges(graph);
    const std::size_t n = edges.size();
    std::vector<std::size_t> waiting_on(n, 0);
    std::vector<std::vector<std::size_t>> dependents(n);
    for (std::size_t i = 0; i < n; ++i) {
        waiting_on[i] = edges[i].size();
        for (std::size_t d : edges[i]) dependents[d].push_back(i);
    }
    const auto later = [&](std::size_t a, std::size_t b) {
        return std::tie(graph.names[a], a) > std::tie(graph.names[b], b);
    };
    std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(later)> ready(later);
    for (std::size_t i = 0; i < n; ++i)
        if (waiting_on[i] == 0) ready.push(i);
    std::vector<std::size_t> order;
    order.reserve(n);
    while (!ready.empty()) {
        const std::size_t node = ready.top();
        ready.pop();
        order.push_back(node);
        for (std::size_t dependent : dependents[node])
            if (--waiting_on[dependent] == 0) ready.push(dependent);
    }
    return order;
}

std::vector<std::size_t> stop_order(const DependencyGraph& graph) {
    auto order = start_order(graph);
    std::reverse(order.begin(), order.end());
    return order;
}

std::vector<std::vector<std::size_t>> find_cycles(const DependencyGraph& graph) {
    const Edges edges = sorted_edges(graph);
    const std::vector<std::size_t> component = components(edges);
    const std::size_t n = edges.size();

    // The smallest-named member of each component and the component's size.
    std::vector<std::size_t> first(n, none), size(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t c = component[i];
        ++size[c];
        if (first[c] == none || std::tie(graph.names[i], i) < std::tie(graph.names[first[c]], first[c]))
            first[c] = i;
    }
    std::vector<std::size_t> starts;
    for (std::size_t c = 0; c < n; ++c) {
        if (first[c] == none) continue;
        const auto& own = edges[first[c]];
        const bool self_loop = std::find(own.begin(), own.end(), first[c]) != own.end();
        if (size[c] > 1 || self_loop) starts.push_back(first[c]);
    }
    std::sort(starts.begin(), starts.end(), [&](std::size_t a, std::size_t b) {
        return std::tie(graph.names[a], a) < std::tie(graph.names[b], b);
    });
    std::vector<std::vector<std::size_t>> cycles;
    for (std::size_t start : starts) cycles.push_back(cycle_through(start, edges, component));
    return cycles;
}

}  // namespace foster
