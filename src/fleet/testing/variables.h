// Tests: a compose variable lookup over a fixed map, in place of vk's
// environment.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "fleet/interpolation.h"

namespace vk::fleet::testing {

using Vars = std::map<std::string, std::string, std::less<>>;

inline VariableLookup Lookup(Vars vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace vk::fleet::testing
