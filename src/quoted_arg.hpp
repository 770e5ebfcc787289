// quoted_arg.hpp — a command-line argument shown in an error message.
//
// The message must stay one line a person can read whatever was typed (or
// generated): the value is quoted, control bytes (a newline, an escape
// sequence) are written as \xNN, and a long value is cut after 64 bytes.
#pragma once

#include <string>
#include <string_view>

namespace foster {

std::string quoted_arg(std::string_view text);

}  // namespace foster
