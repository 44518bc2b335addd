// ARG and ENV scoping as BuildKit applies it. The global scope holds the
// automatic platform args and the ARGs before the first FROM; only FROM lines
// see it. A stage sees an ARG only once it declares it (ARG NAME takes the
// --build-arg value, else its default, else the global value), and ENV; the
// later of an ARG and an ENV of one name wins.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "build/dockerfile.h"
#include "build/shell_words.h"

namespace vk::build {

// HTTP_PROXY, https_proxy, NO_PROXY, ALL_PROXY, ... : docker passes these
// --build-arg values to RUN without an ARG line (and keeps them out of the
// image history); they are not visible to expansion until declared.
bool IsPredefinedArg(std::string_view name);

using VariableMap = std::map<std::string, std::string, std::less<>>;

class VariableScope {
 public:
  // The global scope: `automatic` are TARGETPLATFORM, BUILDARCH, ... (the
  // builder's values); --build-arg values override them.
  static VariableScope Global(const VariableMap& build_args, const VariableMap& automatic);
  // A stage's scope, starting from the base image's environment.
  static VariableScope Stage(const VariableMap& build_args, const VariableScope& global,
                             const VariableMap& image_env);

  // Applies an ARG instruction in order (defaults are expanded with what is
  // in scope so far). Errors are kUsage.
  Result<void> Declare(const ArgInstruction& arg, char escape);
  // Applies an expanded ENV instruction.
  void SetEnv(const EnvInstruction& env);
  void Set(std::string name, std::string value) { values_[std::move(name)] = std::move(value); }

  std::optional<std::string> Get(std::string_view name) const;
  // A lookup that reads this scope as it is when called (keep the scope alive).
  VariableLookup Lookup() const;
  const VariableMap& values() const { return values_; }

 private:
  VariableScope(const VariableMap& build_args, const VariableScope* global)
      : build_args_(&build_args), global_(global) {}

  const VariableMap* build_args_;
  const VariableScope* global_;  // null for the global scope itself
  VariableMap values_;
};

}  // namespace vk::build
