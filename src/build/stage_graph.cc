#include "build/stage_graph.h"

#include <algorithm>

#include "base/strings.h"
#include "build/ascii.h"
#include "build/suggest.h"

namespace vk::build {
namespace {

std::optional<size_t> FindByName(const Dockerfile& dockerfile, std::string_view name) {
  std::string lower = AsciiLower(name);
  for (const Stage& stage : dockerfile.stages) {
    if (!stage.name.empty() && stage.name == lower) return stage.index;
  }
  return std::nullopt;
}

void AddUnique(std::vector<size_t>& list, size_t value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

// A FROM names an earlier stage by its exact (lower-case) name; a later
// stage of that name is an image reference, as in BuildKit.
Result<std::optional<size_t>> BaseStage(const Dockerfile& dockerfile, const Stage& stage,
                                        const VariableLookup& global) {
  ShellWordOptions options;
  options.escape = dockerfile.directives.escape;
  std::string base = VK_TRY(ExpandWord(stage.base, global, options));
  for (size_t i = 0; i < stage.index; ++i) {
    if (!dockerfile.stages[i].name.empty() && dockerfile.stages[i].name == base) {
      return std::optional<size_t>(i);
    }
  }
  return std::optional<size_t>();
}

Result<void> AddInstructionInputs(const Dockerfile& dockerfile, const Instruction& instruction,
                                  std::vector<size_t>& deps) {
  if (const auto* copy = std::get_if<CopyInstruction>(&instruction.args)) {
    if (copy->from.empty()) return Ok();
    std::optional<size_t> stage = VK_TRY(StageReference(dockerfile, copy->from));
    if (stage) AddUnique(deps, *stage);
  } else if (const auto* run = std::get_if<RunInstruction>(&instruction.args)) {
    for (const Mount& mount : run->mounts) {
      if (mount.from.empty()) continue;
      std::optional<size_t> stage = VK_TRY(StageReference(dockerfile, mount.from));
      if (stage) AddUnique(deps, *stage);
    }
  }
  return Ok();
}

struct Walk {
  const Dockerfile& dockerfile;
  const VariableLookup& global;
  std::vector<int> state;  // 0 unseen, 1 on the path, 2 done
  std::vector<size_t> order;

  Result<void> Visit(size_t index) {
    if (state[index] == 2) return Ok();
    if (state[index] == 1) {
      const Stage& stage = dockerfile.stages[index];
      return Error(ErrorKind::kUsage,
                   "circular dependency detected on stage: " +
                       (stage.name.empty() ? std::to_string(index) : stage.name) +
                       "; a stage cannot use itself or a stage that uses it");
    }
    state[index] = 1;
    for (size_t dep : VK_TRY(DirectDependencies(dockerfile, index, global))) VK_TRY(Visit(dep));
    state[index] = 2;
    order.push_back(index);
    return Ok();
  }
};

}  // namespace

Result<size_t> ResolveTarget(const Dockerfile& dockerfile, std::string_view target) {
  if (dockerfile.stages.empty()) return Error(ErrorKind::kUsage, "the Dockerfile has no stage");
  if (target.empty()) return dockerfile.stages.size() - 1;
  std::optional<size_t> found = FindByName(dockerfile, target);
  if (found) return *found;
  std::vector<std::string> names;
  for (const Stage& stage : dockerfile.stages) {
    if (!stage.name.empty()) names.push_back(stage.name);
  }
  return Error(ErrorKind::kUsage, "target stage \"" + std::string(target) +
                                      "\" could not be found" + DidYouMean(target, names) +
                                      "; name a stage written FROM ... AS NAME");
}

Result<std::optional<size_t>> StageReference(const Dockerfile& dockerfile, std::string_view ref) {
  std::optional<uint64_t> number = ParseUint(ref);
  if (number && !ref.empty()) {
    if (*number >= dockerfile.stages.size()) {
      return Error(ErrorKind::kUsage, "invalid stage index " + std::string(ref) + "; there are " +
                                          std::to_string(dockerfile.stages.size()) + " stages");
    }
    return std::optional<size_t>(static_cast<size_t>(*number));
  }
  return FindByName(dockerfile, ref);
}

Result<std::vector<size_t>> DirectDependencies(const Dockerfile& dockerfile, size_t index,
                                               const VariableLookup& global) {
  const Stage& stage = dockerfile.stages.at(index);
  std::vector<size_t> deps;
  std::optional<size_t> base = VK_TRY(BaseStage(dockerfile, stage, global));
  if (base) deps.push_back(*base);
  for (const Instruction& instruction : stage.instructions) {
    auto added = AddInstructionInputs(dockerfile, instruction, deps);
    if (!added.ok()) {
      return Error(ErrorKind::kUsage, "Dockerfile:" + std::to_string(instruction.lines.first) +
                                          ": " + added.error().message());
    }
  }
  return deps;
}

Result<std::vector<size_t>> StagesToBuild(const Dockerfile& dockerfile, size_t target,
                                          const VariableLookup& global) {
  if (target >= dockerfile.stages.size()) {
    return Error(ErrorKind::kUsage, "no stage " + std::to_string(target));
  }
  Walk walk{dockerfile, global, std::vector<int>(dockerfile.stages.size(), 0), {}};
  VK_TRY(walk.Visit(target));
  return std::move(walk.order);
}

}  // namespace vk::build
