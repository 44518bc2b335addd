#include <cstdio>

#include "cli/command.h"

namespace vk::cli {

int Fail(std::string_view command, const Error& error) {
  std::fprintf(stderr, "vk %.*s: %s\n", static_cast<int>(command.size()), command.data(),
               error.message().c_str());
  return ExitCodeFor(error.kind());
}

int ExitCodeOf(std::string_view command, const Result<int>& result) {
  return result.ok() ? *result : Fail(command, result.error());
}

}  // namespace vk::cli
