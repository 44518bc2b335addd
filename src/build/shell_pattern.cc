#include "build/shell_pattern.h"

#include <algorithm>

namespace vk::build {

Result<ShellPattern> ShellPattern::Compile(std::string_view text) {
  ShellPattern pattern;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '*') {
      pattern.tokens_.push_back({Kind::kAnyString, 0});
    } else if (c == '?') {
      pattern.tokens_.push_back({Kind::kAnyOne, 0});
    } else if (c == '\\') {
      // `\}` and `\/` only protected the ${...} syntax; the escape is not
      // part of the pattern (BuildKit drops it the same way).
      char next = i + 1 < text.size() ? text[i + 1] : '\0';
      if (next == '}' || next == '/') continue;
      if (next != '*' && next != '?' && next != '\\') {
        return Error(ErrorKind::kUsage, "invalid escape in pattern \"" + std::string(text) +
                                            "\": only \\*, \\? and \\\\ are allowed");
      }
      pattern.tokens_.push_back({Kind::kLiteral, next});
      ++i;
    } else {
      pattern.tokens_.push_back({Kind::kLiteral, c});
    }
  }
  return pattern;
}

// A Thompson simulation over the token list: state i means "tokens before i
// matched"; a star state loops. Linear in value.size() * tokens, so a
// hostile pattern cannot make it backtrack exponentially.
std::vector<size_t> ShellPattern::PrefixMatches(std::string_view value) const {
  const size_t count = tokens_.size();
  std::vector<char> states(count + 1, 0), next(count + 1, 0);
  auto close = [&](std::vector<char>& set) {
    for (size_t i = 0; i < count; ++i) {
      if (set[i] && tokens_[i].kind == Kind::kAnyString) set[i + 1] = 1;
    }
  };
  states[0] = 1;
  close(states);
  std::vector<size_t> matches;
  for (size_t pos = 0;; ++pos) {
    if (states[count]) matches.push_back(pos);
    if (pos == value.size()) break;
    std::fill(next.begin(), next.end(), 0);
    bool any = false;
    for (size_t i = 0; i < count; ++i) {
      if (!states[i]) continue;
      const Token& token = tokens_[i];
      if (token.kind == Kind::kAnyString) {
        next[i] = 1;
      } else if (token.kind == Kind::kAnyOne || token.literal == value[pos]) {
        next[i + 1] = 1;
      } else {
        continue;
      }
      any = true;
    }
    if (!any) break;
    close(next);
    states.swap(next);
  }
  return matches;
}

std::optional<size_t> ShellPattern::PickPrefix(std::string_view value, bool longest) const {
  std::vector<size_t> matches = PrefixMatches(value);
  if (matches.empty()) return std::nullopt;
  return longest ? matches.back() : matches.front();
}

ShellPattern ShellPattern::Reversed() const {
  ShellPattern reversed;
  reversed.tokens_.assign(tokens_.rbegin(), tokens_.rend());
  return reversed;
}

std::string ShellPattern::TrimPrefix(std::string_view value, bool longest) const {
  std::optional<size_t> length = PickPrefix(value, longest);
  return std::string(length ? value.substr(*length) : value);
}

std::string ShellPattern::TrimSuffix(std::string_view value, bool longest) const {
  std::string reversed(value.rbegin(), value.rend());
  std::optional<size_t> length = Reversed().PickPrefix(reversed, longest);
  return std::string(length ? value.substr(0, value.size() - *length) : value);
}

std::string ShellPattern::Replace(std::string_view value, std::string_view replacement,
                                  bool all) const {
  std::string out;
  size_t pos = 0;
  bool replaced = false;
  std::optional<size_t> last_end;
  while (pos <= value.size()) {
    std::optional<size_t> length;
    if (all || !replaced) length = PickPrefix(value.substr(pos), /*longest=*/true);
    // An empty match right after a match is not a new one (as Go's regexp).
    if (length && !(*length == 0 && last_end == pos)) {
      out += replacement;
      replaced = true;
      last_end = pos + *length;
      if (*length > 0) {
        pos += *length;
        continue;
      }
    }
    if (pos < value.size()) out += value[pos];
    ++pos;
  }
  return out;
}

}  // namespace vk::build
