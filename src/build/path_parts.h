// Paths inside a build (the context, a stage's tree) as lists of components.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vk::build {

// The components of `path` with "", "." dropped and ".." applied lexically;
// a ".." at the top goes nowhere (as BuildKit cleans COPY sources and
// destinations), so the result never leaves the root it is joined to.
std::vector<std::string> CleanParts(std::string_view path);

// "a/b/c" from {"a", "b", "c"}; "" for none.
std::string JoinParts(const std::vector<std::string>& parts);

}  // namespace vk::build
