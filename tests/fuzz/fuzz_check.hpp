// fuzz_check.hpp — what the fuzz targets use to report a broken property.
#pragma once

#include <cstdio>
#include <cstdlib>

// A property every input must keep: a parse that accepts what it cannot
// write back, or writes what it then refuses, is a bug even without a crash.
#define FUZZ_CHECK(condition)                                                                 \
    do {                                                                                      \
        if (!(condition)) {                                                                   \
            std::fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__, #condition); \
            std::abort();                                                                     \
        }                                                                                     \
    } while (false)
