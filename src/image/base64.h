// Base64 (RFC 4648, with padding) for HTTP Basic auth and docker's config.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vk::image {

std::string Base64Encode(std::string_view bytes);
// nullopt for malformed input.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace vk::image
