// The `--name[=value]` flags of one instruction, checked against the flags
// that instruction accepts (BuildKit's BFlags rules: booleans take no value
// or true/false, strings need `=value`, only list flags may repeat).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::build {

class InstructionFlags {
 public:
  enum class Kind { kBool, kString, kList };

  explicit InstructionFlags(std::vector<std::string> words) : words_(std::move(words)) {}

  void Declare(std::string name, Kind kind) { flags_[std::move(name)].kind = kind; }
  // Errors (kUsage) say which flag and how to fix it, without a location.
  Result<void> Parse();

  bool Used(std::string_view name) const;
  bool Bool(std::string_view name) const;
  std::string String(std::string_view name) const;
  const std::vector<std::string>& List(std::string_view name) const;

 private:
  struct Flag {
    Kind kind = Kind::kBool;
    bool used = false;
    std::vector<std::string> values;  // one for kBool/kString ("true"/"false" for kBool)
  };
  const Flag* Find(std::string_view name) const;
  Result<void> Set(Flag& flag, std::string_view spelled, bool has_value, std::string_view value);

  std::vector<std::string> words_;
  std::map<std::string, Flag, std::less<>> flags_;
};

}  // namespace vk::build
