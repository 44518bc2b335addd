// One logical line -> one typed instruction (BuildKit's instructions/parse.go
// rules: which flags each instruction takes, argument counts, JSON vs shell
// form). Errors are kUsage and read "<file>:<line>: what; how to fix".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "build/dockerfile.h"

namespace vk::build {

// Every instruction name, upper-case, FROM included.
const std::vector<std::string>& InstructionNames();

// FROM [--platform=P] IMAGE [AS NAME]: a stage without instructions yet.
Result<Stage> ParseFromLine(const LogicalLine& line, char escape, std::string_view file_name);

// Any instruction but FROM.
Result<Instruction> ParseInstructionLine(const LogicalLine& line, char escape,
                                         std::string_view file_name);

// The lower-cased instruction word of a line ("from", "run", ...).
std::string InstructionWord(const LogicalLine& line, char escape);

}  // namespace vk::build
