// Fuzzes the Dockerfile parser (a Dockerfile comes from whoever wrote the
// build context): lexing, instruction parsing, the builder's expansion of
// every instruction and the stage graph. Must never crash; a parsed file
// must have ordered line ranges.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "build/dockerfile_parser.h"
#include "build/instruction_expansion.h"
#include "build/stage_graph.h"
#include "build/variables.h"

namespace {

void ExerciseStages(const vk::build::Dockerfile& dockerfile) {
  using namespace vk::build;
  const char escape = dockerfile.directives.escape;
  VariableMap build_args = {{"A", "a b"}, {"EMPTY", ""}};
  VariableScope global = VariableScope::Global(build_args, {{"TARGETARCH", "amd64"}});
  for (const Instruction& arg : dockerfile.global_args) {
    (void)global.Declare(std::get<ArgInstruction>(arg.args), escape);
  }
  int last_line = 0;
  for (Stage stage : dockerfile.stages) {
    if (stage.lines.first <= last_line || stage.lines.last < stage.lines.first) abort();
    last_line = stage.lines.last;
    (void)ExpandFrom(stage, global.Lookup(), escape);
    VariableScope scope = VariableScope::Stage(build_args, global, {{"PATH", "/bin"}});
    for (Instruction instruction : stage.instructions) {
      if (instruction.lines.first <= last_line) abort();
      last_line = instruction.lines.last;
      (void)instruction.CacheText();
      if (!ExpandInstruction(instruction, scope.Lookup(), escape).ok()) continue;
      if (auto* arg = std::get_if<ArgInstruction>(&instruction.args))
        (void)scope.Declare(*arg, escape);
      if (auto* env = std::get_if<EnvInstruction>(&instruction.args)) scope.SetEnv(*env);
    }
  }
  auto target = ResolveTarget(dockerfile, "");
  if (target.ok()) (void)StagesToBuild(dockerfile, *target, global.Lookup());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto dockerfile = vk::build::ParseDockerfile(text);
  if (!dockerfile.ok()) {
    if (dockerfile.error().kind() != vk::ErrorKind::kUsage) abort();
    return 0;
  }
  ExerciseStages(*dockerfile);
  return 0;
}
