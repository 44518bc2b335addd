// "did you mean X?" for misspelt instruction names, flags and mount keys.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vk::build {

// The candidate closest to `word` (case-insensitive optimal string alignment
// distance: a swap of two neighbours counts once), if it is close enough to
// be a typo: 1 edit for words up to 3 characters, 2 for longer ones.
std::optional<std::string> ClosestName(std::string_view word,
                                       const std::vector<std::string>& candidates);

// " (did you mean X?)" or "".
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace vk::build
