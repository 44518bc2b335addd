#include "build/instruction_flags.h"

#include "build/ascii.h"
#include "build/suggest.h"

namespace vk::build {
namespace {

Error FlagError(std::string message) { return Error(ErrorKind::kUsage, std::move(message)); }

}  // namespace

Result<void> InstructionFlags::Parse() {
  for (const std::string& word : words_) {
    if (word == "--") return Ok();
    if (word.rfind("--", 0) != 0) return FlagError("flag \"" + word + "\" does not start with --");
    size_t eq = word.find('=');
    std::string_view spelled = std::string_view(word).substr(0, eq);
    std::string_view name = spelled.substr(2);
    auto it = flags_.find(name);
    if (it == flags_.end()) {
      std::vector<std::string> known;
      for (const auto& [known_name, flag] : flags_) known.push_back("--" + known_name);
      if (known.empty())
        return FlagError("unknown flag: " + std::string(spelled) +
                         " (this instruction takes no flags)");
      return FlagError("unknown flag: " + std::string(spelled) + DidYouMean(spelled, known));
    }
    bool has_value = eq != std::string::npos;
    std::string_view value = has_value ? std::string_view(word).substr(eq + 1) : "";
    VK_TRY(Set(it->second, spelled, has_value, value));
  }
  return Ok();
}

Result<void> InstructionFlags::Set(Flag& flag, std::string_view spelled, bool has_value,
                                   std::string_view value) {
  if (flag.used && flag.kind != Kind::kList) {
    return FlagError("duplicate flag specified: " + std::string(spelled) + "; give it once");
  }
  flag.used = true;
  std::string shown(spelled);
  switch (flag.kind) {
    case Kind::kBool: {
      if (has_value && value.empty()) return FlagError("missing a value on flag: " + shown);
      std::string lower = AsciiLower(value);
      if (lower != "" && lower != "true" && lower != "false") {
        return FlagError("expecting boolean value for flag " + shown +
                         ", not: " + std::string(value));
      }
      flag.values = {lower == "false" ? "false" : "true"};
      return Ok();
    }
    case Kind::kString:
      if (!has_value)
        return FlagError("missing a value on flag: " + shown + "; write " + shown + "=VALUE");
      flag.values = {std::string(value)};
      return Ok();
    case Kind::kList:
      if (!has_value)
        return FlagError("missing a value on flag: " + shown + "; write " + shown + "=VALUE");
      flag.values.emplace_back(value);
      return Ok();
  }
  return Ok();
}

const InstructionFlags::Flag* InstructionFlags::Find(std::string_view name) const {
  auto it = flags_.find(name);
  return it == flags_.end() ? nullptr : &it->second;
}

bool InstructionFlags::Used(std::string_view name) const {
  const Flag* flag = Find(name);
  return flag && flag->used;
}

bool InstructionFlags::Bool(std::string_view name) const {
  const Flag* flag = Find(name);
  return flag && !flag->values.empty() && flag->values[0] == "true";
}

std::string InstructionFlags::String(std::string_view name) const {
  const Flag* flag = Find(name);
  return flag && !flag->values.empty() ? flag->values[0] : std::string();
}

const std::vector<std::string>& InstructionFlags::List(std::string_view name) const {
  static const std::vector<std::string> kNone;
  const Flag* flag = Find(name);
  return flag ? flag->values : kNone;
}

}  // namespace vk::build
