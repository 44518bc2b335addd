#include "build/instruction_parser.h"

#include <algorithm>
#include <functional>
#include <map>

#include "build/ascii.h"
#include "build/instruction_request.h"
#include "build/port_spec.h"
#include "build/suggest.h"

namespace vk::build {
namespace {

using Kind = InstructionFlags::Kind;

// WORKDIR/USER/STOPSIGNAL/MAINTAINER: the whole rest of the line.
Result<std::string> OneArgument(const InstructionRequest& request) {
  VK_TRY(CheckFlags(request, {}));
  if (request.split.args.empty()) {
    return InstructionError(request.upper + " requires exactly one argument");
  }
  return request.split.args;
}

// ENV/LABEL: `k=v k2="v 2"` or the legacy `k v w` (one pair, value = rest).
Result<std::vector<KeyValue>> KeyValues(const InstructionRequest& request) {
  VK_TRY(CheckFlags(request, {}));
  const std::string& rest = request.split.args;
  std::vector<std::string> words = SplitQuotedWords(rest, request.escape);
  if (words.empty()) return InstructionError(request.upper + " requires at least one argument");
  std::vector<KeyValue> pairs;
  if (words[0].find('=') == std::string::npos) {
    std::vector<std::string> parts = SplitBlanks(rest);
    if (parts.size() < 2) {
      return InstructionError(request.upper + " must have two arguments",
                              "write " + request.upper + " NAME=VALUE");
    }
    size_t value_start = rest.find_first_not_of(" \t\v\f\r", parts[0].size());
    pairs.push_back({parts[0], rest.substr(value_start)});
  } else {
    for (const std::string& word : words) {
      size_t eq = word.find('=');
      if (eq == std::string::npos) {
        return InstructionError("syntax error - can't find = in \"" + word + "\"",
                                "write NAME=VALUE");
      }
      pairs.push_back({word.substr(0, eq), word.substr(eq + 1)});
    }
  }
  for (const KeyValue& pair : pairs) {
    if (pair.key.empty()) return InstructionError(request.upper + " names can not be blank");
  }
  return pairs;
}

Result<InstructionArgs> ParseArg(const InstructionRequest& request) {
  VK_TRY(CheckFlags(request, {}));
  std::vector<std::string> words = SplitQuotedWords(request.split.args, request.escape);
  if (words.empty())
    return InstructionError("ARG requires at least one argument", "write ARG NAME[=DEFAULT]");
  ArgInstruction arg;
  for (std::string& word : words) {
    size_t eq = word.find('=');
    if (eq == 0) return InstructionError("ARG names can not be blank");
    if (eq == std::string::npos) {
      arg.args.push_back({std::move(word), std::nullopt});
    } else {
      arg.args.push_back({word.substr(0, eq), word.substr(eq + 1)});
    }
  }
  return InstructionArgs(std::move(arg));
}

Result<InstructionArgs> ParseExpose(const InstructionRequest& request) {
  VK_TRY(CheckFlags(request, {}));
  ExposeInstruction expose{SplitBlanks(request.split.args)};
  if (expose.ports.empty())
    return InstructionError("EXPOSE requires at least one argument", "write EXPOSE 80/tcp");
  for (const std::string& port : expose.ports) {
    if (port.find('$') == std::string::npos) VK_TRY(ParsePortSpec(port));
  }
  std::sort(expose.ports.begin(), expose.ports.end());  // as BuildKit records them
  return InstructionArgs(std::move(expose));
}

Result<InstructionArgs> ParseVolume(const InstructionRequest& request) {
  VK_TRY(CheckFlags(request, {}));
  VolumeInstruction volume;
  for (const std::string& path : VK_TRY(ListArguments(request))) {
    std::string trimmed(TrimBlanks(path));
    if (trimmed.empty()) return InstructionError("VOLUME specified can not be an empty string");
    volume.paths.push_back(std::move(trimmed));
  }
  if (volume.paths.empty()) return InstructionError("VOLUME requires at least one argument");
  return InstructionArgs(std::move(volume));
}

Result<InstructionArgs> ParseShell(const InstructionRequest& request) {
  VK_TRY(CheckFlags(request, {}));
  CommandLine command = VK_TRY(CommandArguments(request));
  if (command.args.empty()) return InstructionError("SHELL requires at least one argument");
  if (command.form != CommandForm::kExec) {
    return InstructionError("SHELL requires the arguments to be in JSON form",
                            "write SHELL [\"/bin/bash\", \"-c\"]");
  }
  return InstructionArgs(ShellInstruction{std::move(command.args)});
}

Result<Instruction> ParseWithoutLocation(const LogicalLine& line, char escape);

Result<InstructionArgs> ParseOnbuild(const InstructionRequest& request) {
  VK_TRY(CheckFlags(request, {}));
  if (request.split.args.empty()) return InstructionError("ONBUILD requires at least one argument");
  LogicalLine inner = *request.line;
  inner.text = request.split.args;
  std::string trigger = InstructionWord(inner, request.escape);
  if (trigger == "onbuild") {
    return InstructionError("chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  }
  if (trigger == "maintainer" || trigger == "from") {
    return InstructionError(AsciiUpper(trigger) + " isn't allowed as an ONBUILD trigger");
  }
  OnbuildInstruction onbuild;
  onbuild.expression = inner.text;
  for (const Heredoc& heredoc : inner.heredocs) {
    onbuild.expression += "\n" + heredoc.content + heredoc.name;
  }
  // The trigger is checked now (docker only checks it when it fires).
  auto parsed = ParseWithoutLocation(inner, request.escape);
  if (!parsed.ok()) return InstructionError("in ONBUILD trigger: " + parsed.error().message());
  onbuild.trigger.push_back(std::move(parsed).value());
  return InstructionArgs(std::move(onbuild));
}

using Parser = std::function<Result<InstructionArgs>(const InstructionRequest&)>;

const std::map<std::string, Parser, std::less<>>& Parsers() {
  static const std::map<std::string, Parser, std::less<>> parsers = {
      {"run", ParseRun},
      {"copy", ParseCopy},
      {"add", ParseAdd},
      {"arg", ParseArg},
      {"env",
       [](const InstructionRequest& r) -> Result<InstructionArgs> {
         return InstructionArgs(EnvInstruction{VK_TRY(KeyValues(r))});
       }},
      {"label",
       [](const InstructionRequest& r) -> Result<InstructionArgs> {
         return InstructionArgs(LabelInstruction{VK_TRY(KeyValues(r))});
       }},
      {"workdir",
       [](const InstructionRequest& r) -> Result<InstructionArgs> {
         return InstructionArgs(WorkdirInstruction{VK_TRY(OneArgument(r))});
       }},
      {"user",
       [](const InstructionRequest& r) -> Result<InstructionArgs> {
         return InstructionArgs(UserInstruction{VK_TRY(OneArgument(r))});
       }},
      {"stopsignal",
       [](const InstructionRequest& r) -> Result<InstructionArgs> {
         return InstructionArgs(StopSignalInstruction{VK_TRY(OneArgument(r))});
       }},
      {"maintainer",
       [](const InstructionRequest& r) -> Result<InstructionArgs> {
         return InstructionArgs(MaintainerInstruction{VK_TRY(OneArgument(r))});
       }},
      {"expose", ParseExpose},
      {"volume", ParseVolume},
      {"cmd",
       [](const InstructionRequest& r) -> Result<InstructionArgs> {
         VK_TRY(CheckFlags(r, {}));
         return InstructionArgs(CmdInstruction{VK_TRY(CommandArguments(r))});
       }},
      {"entrypoint",
       [](const InstructionRequest& r) -> Result<InstructionArgs> {
         VK_TRY(CheckFlags(r, {}));
         return InstructionArgs(EntrypointInstruction{VK_TRY(CommandArguments(r))});
       }},
      {"shell", ParseShell},
      {"healthcheck", ParseHealthcheck},
      {"onbuild", ParseOnbuild},
  };
  return parsers;
}

InstructionRequest MakeRequest(const LogicalLine& line, char escape) {
  InstructionRequest request{SplitInstructionLine(line.text, escape), "", &line, escape};
  request.upper = AsciiUpper(request.split.command);
  return request;
}

Error AtLine(std::string_view file_name, const LogicalLine& line, const Error& error) {
  return Error(ErrorKind::kUsage, std::string(file_name) + ":" + std::to_string(line.lines.first) +
                                      ": " + error.message());
}

Result<Instruction> ParseWithoutLocation(const LogicalLine& line, char escape) {
  InstructionRequest request = MakeRequest(line, escape);
  auto it = Parsers().find(AsciiLower(request.split.command));
  if (it == Parsers().end()) {
    return InstructionError("unknown instruction: " + request.split.command +
                                DidYouMean(request.upper, InstructionNames()),
                            "see the Dockerfile reference for the instructions");
  }
  InstructionArgs args = VK_TRY(it->second(request));
  return Instruction{request.split.command, line.lines, std::string(TrimBlanks(line.text)),
                     line.heredocs, std::move(args)};
}

}  // namespace

const std::vector<std::string>& InstructionNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out = {"FROM"};
    for (const auto& [name, parser] : Parsers()) out.push_back(AsciiUpper(name));
    return out;
  }();
  return names;
}

std::string InstructionWord(const LogicalLine& line, char escape) {
  return AsciiLower(SplitInstructionLine(line.text, escape).command);
}

Result<Stage> ParseFromLine(const LogicalLine& line, char escape, std::string_view file_name) {
  InstructionRequest request = MakeRequest(line, escape);
  auto flags = CheckFlags(request, {{"platform", Kind::kString}});
  if (!flags.ok()) return AtLine(file_name, line, flags.error());
  std::vector<std::string> args = SplitBlanks(request.split.args);
  Stage stage;
  if (args.size() == 3 && AsciiLower(args[1]) == "as") {
    stage.name = AsciiLower(args[2]);
    bool valid = !stage.name.empty() && stage.name[0] >= 'a' && stage.name[0] <= 'z' &&
                 stage.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.") ==
                     std::string::npos;
    if (!valid) {
      return DockerfileError(
          file_name, line.lines.first, "invalid name for build stage: \"" + args[2] + "\"",
          "a stage name starts with a letter and holds only letters, digits, '-', '_' and '.'");
    }
  } else if (args.size() != 1) {
    return DockerfileError(file_name, line.lines.first,
                           "FROM requires either one or three arguments",
                           "write FROM IMAGE [AS NAME]");
  }
  stage.base = args[0];
  stage.platform = flags->String("platform");
  stage.text = std::string(TrimBlanks(line.text));
  stage.lines = line.lines;
  return stage;
}

Result<Instruction> ParseInstructionLine(const LogicalLine& line, char escape,
                                         std::string_view file_name) {
  auto instruction = ParseWithoutLocation(line, escape);
  if (!instruction.ok()) return AtLine(file_name, line, instruction.error());
  return instruction;
}

}  // namespace vk::build