// What the per-instruction parsers share (instruction_parser.cc,
// run_copy_parsers.cc, healthcheck_parser.cc): the split line being parsed
// and the argument forms docker knows.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "build/dockerfile.h"
#include "build/dockerfile_words.h"
#include "build/instruction_flags.h"

namespace vk::build {

struct InstructionRequest {
  SplitLine split;
  std::string upper;  // the instruction word, upper-cased, for messages
  const LogicalLine* line;
  char escape;
};

// "what; how to fix" as a kUsage error (the caller adds the location).
Error InstructionError(std::string what, std::string_view fix = {});

// Declares the flags an instruction takes and checks the ones given.
Result<InstructionFlags> CheckFlags(
    const InstructionRequest& request,
    std::initializer_list<std::pair<const char*, InstructionFlags::Kind>> declared);

// COPY/ADD/VOLUME: a JSON array of strings, or words separated by blanks.
Result<std::vector<std::string>> ListArguments(const InstructionRequest& request);

// RUN/CMD/ENTRYPOINT/SHELL: a JSON array (exec form) or the text (shell form).
Result<CommandLine> CommandArguments(const InstructionRequest& request);

Result<InstructionArgs> ParseRun(const InstructionRequest& request);
Result<InstructionArgs> ParseCopy(const InstructionRequest& request);
Result<InstructionArgs> ParseAdd(const InstructionRequest& request);
Result<InstructionArgs> ParseHealthcheck(const InstructionRequest& request);

}  // namespace vk::build
