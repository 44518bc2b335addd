// RUN --mount=type=cache,target=/root/.cache,... : the CSV option list of one
// mount, with BuildKit's keys, aliases (src, dst, destination, ro, rw),
// defaults and checks.
#pragma once

#include <string_view>

#include "base/result.h"
#include "build/dockerfile.h"
#include "build/shell_words.h"

namespace vk::build {

// With `lookup`, every value is expanded first (the builder's pass). Without
// it (the parser's pass) a value holding '$' is kept as written and not
// checked yet, except `from`, which never expands. Errors are kUsage.
Result<Mount> ParseMount(std::string_view spec, const VariableLookup* lookup);

// "512m", "1g", "1.5GiB", "4096": bytes (docker's RAMInBytes, binary units).
Result<uint64_t> ParseMemorySize(std::string_view text);

}  // namespace vk::build
