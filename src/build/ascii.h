// ASCII case mapping: Dockerfile keywords, flags and keys are ASCII, and
// std::tolower depends on the locale.
#pragma once

#include <string>
#include <string_view>

namespace vk::build {

std::string AsciiLower(std::string_view text);
std::string AsciiUpper(std::string_view text);

}  // namespace vk::build
