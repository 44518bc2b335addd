#include "build/instruction_request.h"

#include <optional>

#include "build/json_array.h"

namespace vk::build {
namespace {

// A JSON array of strings, nullopt for any other text; a JSON array holding
// something else is an error (docker does not fall back to the shell form).
Result<std::optional<std::vector<std::string>>> JsonForm(const InstructionRequest& request) {
  JsonArray json = ParseJsonArray(request.split.args);
  if (json.kind == JsonArrayKind::kNotStrings) {
    return InstructionError(
        "when using JSON array syntax, arrays must be comprised of strings only",
        "quote every element: [\"a\", \"1\"]");
  }
  if (json.kind == JsonArrayKind::kNotJsonArray) return std::optional<std::vector<std::string>>();
  return std::optional<std::vector<std::string>>(std::move(json.strings));
}

}  // namespace

Error InstructionError(std::string what, std::string_view fix) {
  if (!fix.empty()) what += "; " + std::string(fix);
  return Error(ErrorKind::kUsage, std::move(what));
}

// Declares the flags an instruction takes and checks the ones given.
Result<InstructionFlags> CheckFlags(
    const InstructionRequest& request,
    std::initializer_list<std::pair<const char*, InstructionFlags::Kind>> declared) {
  InstructionFlags flags(request.split.flags);
  for (const auto& [name, kind] : declared) flags.Declare(name, kind);
  VK_TRY(flags.Parse());
  return flags;
}

// COPY/ADD/VOLUME: a JSON array, or words separated by blanks.
Result<std::vector<std::string>> ListArguments(const InstructionRequest& request) {
  std::optional<std::vector<std::string>> json = VK_TRY(JsonForm(request));
  return json ? std::move(*json) : SplitBlanks(request.split.args);
}

// RUN/CMD/ENTRYPOINT/SHELL: a JSON array (exec form) or the text (shell form).
Result<CommandLine> CommandArguments(const InstructionRequest& request) {
  CommandLine command;
  if (request.split.args.empty()) return command;
  std::optional<std::vector<std::string>> json = VK_TRY(JsonForm(request));
  if (json) {
    command.form = CommandForm::kExec;
    command.args = std::move(*json);
  } else {
    command.args = {request.split.args};
  }
  return command;
}

}  // namespace vk::build
