#include "build/variables.h"

#include <array>

namespace vk::build {

bool IsPredefinedArg(std::string_view name) {
  static constexpr std::array<std::string_view, 10> kNames = {
      "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
      "ftp_proxy",  "NO_PROXY",   "no_proxy",    "ALL_PROXY",   "all_proxy"};
  for (std::string_view known : kNames) {
    if (known == name) return true;
  }
  return false;
}

VariableScope VariableScope::Global(const VariableMap& build_args, const VariableMap& automatic) {
  VariableScope scope(build_args, nullptr);
  scope.values_ = automatic;
  for (const auto& [name, value] : automatic) {
    auto given = build_args.find(name);
    if (given != build_args.end()) scope.values_[name] = given->second;
  }
  return scope;
}

VariableScope VariableScope::Stage(const VariableMap& build_args, const VariableScope& global,
                                   const VariableMap& image_env) {
  VariableScope scope(build_args, &global);
  scope.values_ = image_env;
  return scope;
}

Result<void> VariableScope::Declare(const ArgInstruction& arg, char escape) {
  ShellWordOptions options;
  options.escape = escape;
  for (const ArgDeclaration& declaration : arg.args) {
    std::optional<std::string> value;
    auto given = build_args_->find(declaration.name);
    if (given != build_args_->end()) {
      value = given->second;
    } else if (declaration.default_value) {
      value = VK_TRY(ExpandWord(*declaration.default_value, Lookup(), options)
                         .Context("ARG " + declaration.name));
    } else if (global_) {
      value = global_->Get(declaration.name);  // ARG NAME re-declares a global one
    }
    if (value) values_[declaration.name] = std::move(*value);
  }
  return Ok();
}

void VariableScope::SetEnv(const EnvInstruction& env) {
  for (const KeyValue& pair : env.vars) values_[pair.key] = pair.value;
}

std::optional<std::string> VariableScope::Get(std::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

VariableLookup VariableScope::Lookup() const {
  return [this](std::string_view name) { return Get(name); };
}

}  // namespace vk::build
