// Variable expansion in exactly the places docker expands: FROM (base and
// --platform, with the global ARGs), ENV, LABEL, COPY/ADD (sources,
// destination, --chown, --chmod, --checksum, heredoc bodies unless their
// delimiter was quoted), WORKDIR, USER, VOLUME, EXPOSE, STOPSIGNAL and RUN
// --mount values. RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK/ONBUILD/MAINTAINER
// are left alone (the shell in the image expands RUN). ARG defaults are
// expanded by VariableScope::Declare.
#pragma once

#include "base/result.h"
#include "build/dockerfile.h"
#include "build/shell_words.h"

namespace vk::build {

// Expands `instruction` in place with the stage's variables. `escape` is the
// Dockerfile's escape character. Errors (kUsage) name the line.
Result<void> ExpandInstruction(Instruction& instruction, const VariableLookup& lookup, char escape,
                               std::string_view file_name = "Dockerfile");

// Expands the stage's base and platform with the global scope; an empty
// result is an error, as in docker.
Result<void> ExpandFrom(Stage& stage, const VariableLookup& global, char escape,
                        std::string_view file_name = "Dockerfile");

}  // namespace vk::build
