// Instructions as text, after expansion: the canonical form the cache key
// hashes (every field that changes the result, in a fixed order) and the
// line the image history shows ("RUN /bin/sh -c make # buildkit").
#pragma once

#include <string>

#include "build/build_config.h"
#include "build/dockerfile.h"

namespace vk::build {

// Canonical, unambiguous text of an expanded instruction.
std::string CanonicalText(const Instruction& instruction);

// The history's created_by for the instruction, with `config` the stage's
// config before it (RUN shows the shell it runs with).
std::string HistoryText(const Instruction& instruction, const BuildConfig& config);

// "RUN make" with the keyword upper-cased: progress lines.
std::string DisplayText(const Instruction& instruction);

}  // namespace vk::build
