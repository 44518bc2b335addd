// Which stages a build needs: the --target stage and, transitively, the
// stages it uses (FROM an earlier stage, COPY --from=NAME|INDEX, RUN
// --mount=from=NAME), in an order where each stage comes after its inputs.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "build/dockerfile.h"
#include "build/shell_words.h"

namespace vk::build {

// The stage --target names (case-insensitive), or the last stage when
// `target` is empty. kUsage error with a suggestion otherwise.
Result<size_t> ResolveTarget(const Dockerfile& dockerfile, std::string_view target);

// The stage a COPY --from / RUN --mount from= names: a stage name
// (case-insensitive) or index. nullopt means an image reference. An index out
// of range is an error.
Result<std::optional<size_t>> StageReference(const Dockerfile& dockerfile, std::string_view ref);

// The stages directly used by stage `index` (its base, --from, mount from=),
// without duplicates. `global` expands FROM bases (ARGs before FROM).
Result<std::vector<size_t>> DirectDependencies(const Dockerfile& dockerfile, size_t index,
                                               const VariableLookup& global);

// Every stage `target` needs, dependencies first, `target` last. A cycle is
// an error.
Result<std::vector<size_t>> StagesToBuild(const Dockerfile& dockerfile, size_t target,
                                          const VariableLookup& global);

}  // namespace vk::build
