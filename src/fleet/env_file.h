// The dotenv format of compose's `.env` and `env_file:` files, as compose
// reads them: KEY=VALUE lines, `export ` prefixes, # comments, 'literal' and
// "escaped" quoting (both may span lines), and interpolation in unquoted and
// double-quoted values. A bare KEY takes vk's environment's value, or is left
// out when that is unset.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "fleet/interpolation.h"

namespace vk::fleet {

using EnvEntries = std::vector<std::pair<std::string, std::string>>;

// `file` only names the source in errors ("FILE:LINE: ..."), kUsage.
// Interpolation looks up `lookup` first, then earlier entries of the file.
Result<EnvEntries> ParseEnvFile(std::string_view text, const std::string& file,
                                const VariableLookup& lookup);

// Reads and parses a file (at most 1 MiB: it is configuration, not data).
Result<EnvEntries> ReadEnvFile(const std::string& path, const VariableLookup& lookup);

}  // namespace vk::fleet
