// Which compose files a fleet is read from, found the way `docker compose`
// finds them: every -f FILE in order; else $COMPOSE_FILE; else the
// directory's compose file and, beside it, its override file. The files
// are merged in that order (compose_merge.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "fleet/interpolation.h"

namespace vk::fleet {

// The names compose looks for, in its order of precedence.
inline constexpr std::string_view kComposeFileNames[] = {
    "compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"};

// The first of kComposeFileNames in `dir`; kNotFound naming them otherwise.
Result<std::string> FindComposeFile(const std::string& dir);

// The override file beside `base`, named like it: compose.override.yaml or
// .yml for compose.*, docker-compose.override.yaml or .yml for
// docker-compose.*; nullopt when there is none.
std::optional<std::string> FindOverrideFile(const std::string& base);

// The files to merge, in order: `given` (-f) when there are any; else
// $COMPOSE_FILE from `environment`, split at $COMPOSE_PATH_SEPARATOR (':' by
// default, as on Linux); else FindComposeFile(dir) and its override file.
// An override file is only looked for in the last case, as compose does.
Result<std::vector<std::string>> ComposeFilePaths(const std::vector<std::string>& given,
                                                  const std::string& dir,
                                                  const VariableLookup& environment);

}  // namespace vk::fleet
