// Shell-like word processing of Dockerfile arguments, as BuildKit's
// frontend/dockerfile/shell lexer does it: quotes, the escape character and
// variable expansion ($V, ${V}, ${V:-x}, ${V-x}, ${V:+x}, ${V+x}, ${V:?x},
// ${V?x}, ${V#p}, ${V##p}, ${V%p}, ${V%%p}, ${V/p/r}, ${V//p/r}).
// It is not a shell: no command substitution, globbing or arithmetic.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::build {

// Returns the value of a variable, or nullopt when it is not set. The builder
// supplies it (build args, ARG and ENV in scope: see variables.h).
using VariableLookup = std::function<std::optional<std::string>(std::string_view name)>;

struct ShellWordOptions {
  char escape = '\\';  // the Dockerfile's `# escape=` character
  // Keep quote characters in the result (used to detect quoted heredoc words).
  bool raw_quotes = false;
  // Keep escape characters in the result (used to find heredoc words).
  bool raw_escapes = false;
  // An unset variable stays as written ("$V", "${V:-x}") instead of "".
  bool skip_unset = false;
  // Quotes are ordinary characters (heredoc bodies of COPY/ADD are expanded so).
  bool skip_quotes = false;
};

// One word, expanded: quotes removed, whitespace kept. "a ${V}" -> "a 1".
// Errors (kUsage) name the construct: "missing '}'", "bad substitution",
// "V: is not allowed to be unset".
Result<std::string> ExpandWord(std::string_view word, const VariableLookup& lookup,
                               const ShellWordOptions& options = {});

// Expanded and split into words at unquoted whitespace, including whitespace
// that came from an unquoted variable's value (as BuildKit splits it).
Result<std::vector<std::string>> ExpandWords(std::string_view text, const VariableLookup& lookup,
                                             const ShellWordOptions& options = {});

// A lookup that knows no variable.
VariableLookup NoVariables();

}  // namespace vk::build
