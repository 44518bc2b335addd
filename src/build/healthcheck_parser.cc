#include <cstdlib>

#include "build/ascii.h"
#include "build/go_duration.h"
#include "build/instruction_request.h"

namespace vk::build {
namespace {

using Kind = InstructionFlags::Kind;

// An interval flag: empty is "not set" (0); anything else at least 1ms.
Result<std::chrono::nanoseconds> Interval(const InstructionFlags& flags, const char* name) {
  std::string text = flags.String(name);
  if (text.empty()) return std::chrono::nanoseconds(0);
  std::chrono::nanoseconds value = VK_TRY(ParseGoDuration(text).Context(std::string("--") + name));
  if (value.count() != 0 && value < std::chrono::milliseconds(1)) {
    return InstructionError(std::string("--") + name + " cannot be less than 1ms");
  }
  return value;
}

Result<int> Retries(const InstructionFlags& flags) {
  if (!flags.Used("retries")) return 0;
  std::string text = flags.String("retries");
  char* end = nullptr;
  long long retries = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || retries > INT32_MAX || retries < INT32_MIN) {
    return InstructionError("invalid --retries \"" + text + "\"", "give a whole number");
  }
  if (retries < 0) return InstructionError("--retries cannot be negative (" + text + ")");
  return static_cast<int>(retries);
}

// HEALTHCHECK [flags] CMD command: the command in exec or shell form.
Result<HealthcheckInstruction> ParseCheckCommand(const InstructionRequest& request,
                                                 const InstructionRequest& command_request) {
  InstructionFlags flags = VK_TRY(CheckFlags(request, {{"interval", Kind::kString},
                                                       {"timeout", Kind::kString},
                                                       {"start-period", Kind::kString},
                                                       {"start-interval", Kind::kString},
                                                       {"retries", Kind::kString}}));
  CommandLine command = VK_TRY(CommandArguments(command_request));
  if (command.args.empty()) return InstructionError("missing command after HEALTHCHECK CMD");
  HealthcheckInstruction health;
  health.test = {command.form == CommandForm::kExec ? "CMD" : "CMD-SHELL"};
  health.test.insert(health.test.end(), command.args.begin(), command.args.end());
  health.interval = VK_TRY(Interval(flags, "interval"));
  health.timeout = VK_TRY(Interval(flags, "timeout"));
  health.start_period = VK_TRY(Interval(flags, "start-period"));
  health.start_interval = VK_TRY(Interval(flags, "start-interval"));
  health.retries = VK_TRY(Retries(flags));
  return health;
}

}  // namespace

Result<InstructionArgs> ParseHealthcheck(const InstructionRequest& request) {
  const std::string& rest = request.split.args;
  size_t type_end = 0;
  while (type_end < rest.size() && !IsBlank(rest[type_end])) ++type_end;
  if (type_end == 0) {
    return InstructionError("HEALTHCHECK requires at least one argument",
                            "write HEALTHCHECK NONE or HEALTHCHECK CMD ...");
  }
  std::string type = AsciiUpper(rest.substr(0, type_end));
  InstructionRequest command_request = request;
  command_request.split.args = std::string(TrimBlanks(std::string_view(rest).substr(type_end)));
  if (type == "NONE") {
    // Flags are not looked at for NONE (BuildKit ignores them too).
    if (!command_request.split.args.empty()) {
      return InstructionError("HEALTHCHECK NONE takes no arguments");
    }
    HealthcheckInstruction health;
    health.test = {"NONE"};
    return InstructionArgs(std::move(health));
  }
  if (type != "CMD") {
    return InstructionError("unknown type \"" + type + "\" in HEALTHCHECK", "use CMD or NONE");
  }
  return InstructionArgs(VK_TRY(ParseCheckCommand(request, command_request)));
}

}  // namespace vk::build
