// byte_size.hpp — sizes written in the config: "10MiB", "500KB", "4096".
//
// Binary units (KiB, MiB, GiB) are powers of 1024 and decimal units (KB, MB,
// GB) powers of 1000, as their names say (IEC 80000-13); `B` and no unit are
// bytes. The unit follows the digits directly or after one space, and is
// spelled exactly so: a size that could be read two ways ("10M", "10mb") is
// refused rather than guessed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace foster {

// The number of bytes, or nullopt for anything else (no digits, an unknown
// unit, more than 2^63 bytes).
std::optional<std::uint64_t> parse_byte_size(std::string_view text);

// "1MiB", "1500B": the shortest exact spelling, for messages.
std::string format_byte_size(std::uint64_t bytes);

}  // namespace foster
