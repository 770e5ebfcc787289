#include <doctest/doctest.h>

#include "autoreap.hpp"

using foster::kernel_release_at_least;

TEST_CASE("kernel releases at or after 6.15 let the kernel reap") {
    CHECK(kernel_release_at_least("6.15.0", 6, 15));
    CHECK(kernel_release_at_least("6.15", 6, 15));
    CHECK(kernel_release_at_least("6.18.44-fc-v657", 6, 15));
    CHECK(kernel_release_at_least("7.0.0-rc1", 6, 15));
    CHECK(kernel_release_at_least("6.100.1", 6, 15));
}

TEST_CASE("older kernel releases keep foster's waitid loop") {
    CHECK_FALSE(kernel_release_at_least("6.14.9", 6, 15));
    CHECK_FALSE(kernel_release_at_least("6.1.0-28-amd64", 6, 15));  // Debian 12
    CHECK_FALSE(kernel_release_at_least("5.19.0", 6, 15));
    CHECK_FALSE(kernel_release_at_least("6.2.0", 6, 15));  // 2 < 15, not "2" > "15" as text
}

TEST_CASE("a release that does not parse keeps the waitid loop") {
    CHECK_FALSE(kernel_release_at_least("", 6, 15));
    CHECK_FALSE(kernel_release_at_least("six.fifteen", 6, 15));
    CHECK_FALSE(kernel_release_at_least("6", 6, 15));
    CHECK_FALSE(kernel_release_at_least("6.x", 6, 15));
}

TEST_CASE("FOSTER_AUTOREAP=0 turns autoreap off whatever the kernel") {
    CHECK_FALSE(foster::autoreap_available("0"));
}
