// Dockerfile bytes -> Dockerfile (directives, global ARGs, stages with typed
// instructions). Variables are left unexpanded: see instruction_expansion.h
// and variables.h for what the builder does with them.
#pragma once

#include <string_view>

#include "base/result.h"
#include "build/dockerfile.h"

namespace vk::build {

// `file_name` prefixes error messages ("Dockerfile:7: ..."). Errors are kUsage.
Result<Dockerfile> ParseDockerfile(std::string_view bytes,
                                   std::string_view file_name = "Dockerfile");

}  // namespace vk::build
