// The shell patterns of ${V#p}, ${V%p} and ${V/p/r}: `*` any string, `?` any
// one character, `\*` `\?` `\\` literal (BuildKit's subset: no [...] classes).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::build {

class ShellPattern {
 public:
  // `text` still holds its escape characters (it was read with raw escapes).
  static Result<ShellPattern> Compile(std::string_view text);

  // ${V#p} / ${V##p}: `value` without its shortest (longest) matching prefix.
  std::string TrimPrefix(std::string_view value, bool longest) const;
  // ${V%p} / ${V%%p}: `value` without its shortest (longest) matching suffix.
  std::string TrimSuffix(std::string_view value, bool longest) const;
  // ${V/p/r} / ${V//p/r}: the leftmost longest match (every one) replaced.
  std::string Replace(std::string_view value, std::string_view replacement, bool all) const;

 private:
  enum class Kind { kLiteral, kAnyOne, kAnyString };
  struct Token {
    Kind kind;
    char literal;
  };

  // Lengths n such that value[0, n) matches the whole pattern, ascending.
  std::vector<size_t> PrefixMatches(std::string_view value) const;
  std::optional<size_t> PickPrefix(std::string_view value, bool longest) const;
  ShellPattern Reversed() const;

  std::vector<Token> tokens_;
};

}  // namespace vk::build
