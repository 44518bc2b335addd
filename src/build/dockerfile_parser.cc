#include "build/dockerfile_parser.h"

#include "build/instruction_parser.h"

namespace vk::build {
namespace {

// Two stages with one name would make COPY --from ambiguous; docker lets the
// later one win silently, we refuse.
Result<void> CheckStageName(const Dockerfile& dockerfile, const Stage& stage,
                            std::string_view file_name) {
  if (stage.name.empty()) return Ok();
  for (const Stage& earlier : dockerfile.stages) {
    if (earlier.name == stage.name) {
      return DockerfileError(file_name, stage.lines.first,
                             "duplicate stage name \"" + stage.name + "\" (also on line " +
                                 std::to_string(earlier.lines.first) + ")",
                             "give each stage its own name");
    }
  }
  return Ok();
}

Result<void> AddLine(Dockerfile& dockerfile, const LogicalLine& line, std::string_view file_name) {
  char escape = dockerfile.directives.escape;
  if (InstructionWord(line, escape) == "from") {
    Stage stage = VK_TRY(ParseFromLine(line, escape, file_name));
    VK_TRY(CheckStageName(dockerfile, stage, file_name));
    stage.index = dockerfile.stages.size();
    dockerfile.stages.push_back(std::move(stage));
    return Ok();
  }
  Instruction instruction = VK_TRY(ParseInstructionLine(line, escape, file_name));
  if (!dockerfile.stages.empty()) {
    dockerfile.stages.back().instructions.push_back(std::move(instruction));
  } else if (std::holds_alternative<ArgInstruction>(instruction.args)) {
    dockerfile.global_args.push_back(std::move(instruction));
  } else {
    return DockerfileError(file_name, line.lines.first,
                           instruction.keyword + " before the first FROM",
                           "start the Dockerfile with FROM (only ARG may come before it)");
  }
  return Ok();
}

}  // namespace

Result<Dockerfile> ParseDockerfile(std::string_view bytes, std::string_view file_name) {
  LexedDockerfile lexed = VK_TRY(LexDockerfile(bytes, file_name));
  Dockerfile dockerfile;
  dockerfile.directives = lexed.directives;
  dockerfile.warnings = std::move(lexed.warnings);
  for (const LogicalLine& line : lexed.lines) VK_TRY(AddLine(dockerfile, line, file_name));
  if (dockerfile.stages.empty()) {
    int last = lexed.lines.empty() ? 1 : lexed.lines.back().lines.last;
    return DockerfileError(
        file_name, last, lexed.lines.empty() ? "file with no instructions" : "no FROM instruction",
        "add FROM IMAGE to start a stage");
  }
  return dockerfile;
}

}  // namespace vk::build
