// Compose variable interpolation (compose spec, "Interpolation"): $VAR,
// ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error},
// ${VAR:+replacement}, ${VAR+replacement}, and $$ for a literal $. Defaults
// and replacements may hold further interpolations. Applied to values, never
// to keys, exactly once: the result is not scanned again.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::fleet {

// The value of a variable, or nullopt when it is not set.
using VariableLookup = std::function<std::optional<std::string>(std::string_view name)>;

// kUsage errors: "required variable X is missing a value: MESSAGE" for the
// `?` forms, "invalid interpolation format" for a `$` that starts nothing
// (compose's rule: write $$ for a literal $). Variables that were used but are
// unset, with no default, are appended to `unset` (compose warns about them
// and substitutes "").
Result<std::string> Interpolate(std::string_view text, const VariableLookup& lookup,
                                std::vector<std::string>* unset = nullptr);

// vk's own environment (getenv).
VariableLookup ProcessEnvironment();

// Compose's lookup: `first` (vk's environment), then the project's .env
// entries (the last definition of a name wins).
VariableLookup LayeredLookup(VariableLookup first,
                             std::vector<std::pair<std::string, std::string>> dotenv);

}  // namespace vk::fleet
