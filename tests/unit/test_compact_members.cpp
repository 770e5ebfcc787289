// HeapOptional and LazyDefault (heap_optional.hpp, lazy_default.hpp): the
// members ServiceConfig and Service keep on the heap must still compare and
// copy as the values they stand for, since reload decides "changed" with ==.
#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "config.hpp"
#include "heap_optional.hpp"
#include "lazy_default.hpp"

using foster::HeapOptional;
using foster::LazyDefault;

namespace {

foster::ServiceConfig only_service(const std::string& text) {
    auto result = foster::parse_config(text, "f.toml");
    std::string errors;
    for (const auto& e : result.errors) errors += e.to_string() + "\n";
    INFO(errors);
    REQUIRE(result.config);
    REQUIRE(result.config->services.size() == 1);
    return result.config->services[0];
}

}  // namespace

TEST_CASE("HeapOptional: an optional's semantics, values compared and copied") {
    HeapOptional<std::string> a;
    CHECK(!a);
    CHECK(a == std::nullopt);
    CHECK(a.value_or("x") == "x");
    a = std::string("web");
    REQUIRE(a);
    CHECK(*a == "web");
    CHECK(a == std::string("web"));
    HeapOptional<std::string> b = a;  // a copy of its own
    *b += "2";
    CHECK(*a == "web");
    CHECK(a != b);
    b = std::optional<std::string>("web");
    CHECK(a == b);
    b = std::optional<std::string>();
    CHECK(!b);
    a.reset();
    CHECK(a == b);
}

TEST_CASE("LazyDefault: reads as T{} until edited, equal by value") {
    LazyDefault<foster::HookSettings> hooks;
    CHECK(!hooks.edited());
    CHECK(hooks->hook_timeout == foster::Millis{30'000});
    CHECK(!hooks.edited());  // reading made nothing
    LazyDefault<foster::HookSettings> edited;
    edited.edit().hook_timeout = foster::Millis{30'000};
    CHECK(edited.edited());
    CHECK(hooks == edited);  // the same value, though only one was made
    edited.edit().pre_start = {"/bin/true"};
    CHECK(hooks != edited);
    LazyDefault<foster::HookSettings> copy = edited;
    copy.edit().pre_start.clear();
    CHECK(edited->pre_start.size() == 1);
    CHECK(copy == hooks);
}

TEST_CASE("a service that spells out the defaults is the same service to a reload") {
    const auto plain = only_service("[services.web]\ncommand = \"web\"\n");
    const auto spelled = only_service(
        "[services.web]\ncommand = \"web\"\nhook_timeout = \"30s\"\nno_new_privileges = false\n");
    CHECK(plain == spelled);
    const auto other = only_service("[services.web]\ncommand = \"web\"\nhook_timeout = \"31s\"\n");
    CHECK(plain != other);
}
