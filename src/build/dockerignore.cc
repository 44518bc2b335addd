#include "build/dockerignore.h"

#include "build/dockerfile_words.h"

namespace vk::build {
namespace {

Error BadPattern(std::string_view pattern, std::string_view why) {
  return Error(ErrorKind::kUsage,
               "bad .dockerignore pattern \"" + std::string(pattern) + "\": " + std::string(why));
}

std::string_view TrimSpace(std::string_view text) { return TrimBlanks(text); }

// The directory part of a cleaned relative path, "." when there is none.
std::string_view Dir(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? "." : path.substr(0, slash);
}

std::vector<std::string_view> SplitAt(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return parts;
}

std::vector<std::string_view> Elements(std::string_view path) { return SplitAt(path, '/'); }

// One .dockerignore line -> pattern text (ignorefile.ReadAll), "" to skip.
std::string NormalizeLine(std::string_view line) {
  if (!line.empty() && line.front() == '#') return "";
  line = TrimSpace(line);
  if (line.empty()) return "";
  bool exception = line.front() == '!';
  if (exception) line = TrimSpace(line.substr(1));
  std::string pattern;
  if (!line.empty()) {
    pattern = CleanPath(line);
    if (pattern.size() > 1 && pattern.front() == '/') pattern.erase(0, 1);
  }
  return exception ? "!" + pattern : pattern;
}

}  // namespace

std::string CleanPath(std::string_view path) {
  const bool rooted = !path.empty() && path.front() == '/';
  std::vector<std::string_view> kept;
  for (std::string_view part : Elements(path)) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!kept.empty() && kept.back() != "..") {
        kept.pop_back();
        continue;
      }
      if (rooted) continue;  // ".." at the root stays at the root
    }
    kept.push_back(part);
  }
  std::string out = rooted ? "/" : "";
  for (size_t i = 0; i < kept.size(); ++i) {
    if (i > 0) out += '/';
    out += kept[i];
  }
  return out.empty() ? "." : out;
}

Result<DockerIgnore> DockerIgnore::Parse(std::string_view contents) {
  if (contents.substr(0, 3) == "\xEF\xBB\xBF") contents.remove_prefix(3);
  std::vector<std::string> patterns;
  for (std::string_view line : SplitAt(contents, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string pattern = NormalizeLine(line);
    if (!pattern.empty()) patterns.push_back(std::move(pattern));
  }
  return FromPatterns(patterns);
}

Result<DockerIgnore> DockerIgnore::FromPatterns(const std::vector<std::string>& patterns) {
  DockerIgnore ignore;
  for (const std::string& raw : patterns) {
    std::string_view text = TrimSpace(raw);
    if (text.empty()) continue;
    std::string cleaned = CleanPath(text);
    bool exception = cleaned.front() == '!';
    if (exception && cleaned.size() == 1) {
      return BadPattern("!", "an exception needs a pattern after the '!'");
    }
    if (exception) cleaned.erase(0, 1);
    ignore.patterns_.push_back(VK_TRY(Compile(std::move(cleaned), exception)));
    ignore.has_exceptions_ = ignore.has_exceptions_ || exception;
  }
  return ignore;
}

Result<void> DockerIgnore::CompileClass(std::string_view text, size_t& pos, Element& element) {
  element.token = Token::kClass;
  ++pos;  // '['
  if (pos < text.size() && text[pos] == '^') {
    element.negated = true;
    ++pos;
  }
  auto one = [&](char& out) -> bool {
    if (pos >= text.size() || text[pos] == '-' || text[pos] == ']') return false;
    if (text[pos] == '\\') ++pos;
    if (pos >= text.size()) return false;
    out = text[pos++];
    return true;
  };
  while (true) {
    if (pos < text.size() && text[pos] == ']' && !element.ranges.empty()) {
      ++pos;
      return Ok();
    }
    char low = 0, high = 0;
    if (!one(low)) return BadPattern(text, "unterminated or empty [...] class");
    high = low;
    if (pos < text.size() && text[pos] == '-') {
      ++pos;
      if (!one(high) || high < low) return BadPattern(text, "bad range in [...] class");
    }
    element.ranges.emplace_back(low, high);
  }
}

Result<DockerIgnore::Pattern> DockerIgnore::Compile(std::string text, bool exception) {
  Pattern pattern{text, exception, Shape::kGlob, "", {}};
  for (size_t pos = 0; pos < text.size();) {
    char c = text[pos];
    Element element{Token::kLiteral, c};
    if (c == '*' && pos + 1 < text.size() && text[pos + 1] == '*') {
      pos += 2;
      if (pos < text.size() && text[pos] == '/') ++pos;  // "**/" is "**"
      element.token = pos == text.size() ? Token::kAnything : Token::kAnyDirs;
    } else if (c == '*' || c == '?') {
      element.token = c == '*' ? Token::kStar : Token::kAnyOne;
      ++pos;
    } else if (c == '[') {
      VK_TRY(CompileClass(text, pos, element));
    } else if (c == '\\') {
      if (pos + 1 == text.size()) return BadPattern(text, "it ends with a lone '\\'");
      element.literal = text[pos + 1];
      pos += 2;
    } else {
      ++pos;
    }
    pattern.elements.push_back(std::move(element));
  }
  Classify(pattern);
  return pattern;
}

void DockerIgnore::Classify(Pattern& pattern) {
  const std::vector<Element>& elements = pattern.elements;
  size_t first = 0, last = elements.size();
  bool prefix = last > 0 && elements[last - 1].token == Token::kAnything;
  if (prefix) --last;
  // docker matches a leading "**" followed by plain text as a suffix test.
  bool suffix = !prefix && pattern.text.size() > 2 && pattern.text.compare(0, 2, "**") == 0;
  if (suffix) first = 1;
  std::string literal;
  for (size_t i = first; i < last; ++i) {
    if (elements[i].token != Token::kLiteral) return;  // a glob
    literal += elements[i].literal;
  }
  if (suffix) {
    // The suffix keeps the '/' that "**/" consumed: "**/a" tests "/a" and "a".
    pattern.literal = pattern.text.substr(2);
    if (pattern.text.find_first_of("*?[]\\", 2) != std::string::npos) return;
  } else {
    pattern.literal = std::move(literal);
  }
  pattern.shape = suffix ? Shape::kSuffix : prefix ? Shape::kPrefix : Shape::kExact;
}

// A Thompson simulation (no backtracking). State 2*i is "before element i";
// 2*i+1 is "inside the (dir/)* of element i", which may not end yet.
bool DockerIgnore::MatchElements(const std::vector<Element>& elements, std::string_view path) {
  const size_t count = elements.size();
  std::vector<char> now(2 * count + 2, 0), next(now.size(), 0);
  auto close = [&](std::vector<char>& set) {
    for (size_t i = 0; i < count; ++i) {
      Token token = elements[i].token;
      bool skippable =
          token == Token::kStar || token == Token::kAnyDirs || token == Token::kAnything;
      if (set[2 * i] && skippable) set[2 * (i + 1)] = 1;
    }
  };
  now[0] = 1;
  close(now);
  for (char c : path) {
    std::fill(next.begin(), next.end(), 0);
    for (size_t i = 0; i < count; ++i) {
      if (!now[2 * i] && !now[2 * i + 1]) continue;
      const Element& element = elements[i];
      switch (element.token) {
        case Token::kLiteral:
          if (now[2 * i] && c == element.literal) next[2 * (i + 1)] = 1;
          break;
        case Token::kAnyOne:
          if (now[2 * i] && c != '/') next[2 * (i + 1)] = 1;
          break;
        case Token::kStar:
          if (c != '/') next[2 * i] = 1;
          break;
        case Token::kAnything: next[2 * i] = 1; break;
        case Token::kAnyDirs:
          next[2 * i + 1] = 1;
          if (c == '/') next[2 * (i + 1)] = 1;
          break;
        case Token::kClass: {
          if (!now[2 * i]) break;
          bool in = false;
          for (const auto& [low, high] : element.ranges) in = in || (c >= low && c <= high);
          if (in != element.negated) next[2 * (i + 1)] = 1;
          break;
        }
      }
    }
    close(next);
    now.swap(next);
  }
  return now[2 * count] != 0;
}

bool DockerIgnore::Matches(const Pattern& pattern, std::string_view path) {
  const std::string& literal = pattern.literal;
  switch (pattern.shape) {
    case Shape::kExact: return path == literal;
    case Shape::kPrefix: return path.substr(0, literal.size()) == literal;
    case Shape::kSuffix:
      if (path.size() >= literal.size() && path.substr(path.size() - literal.size()) == literal) {
        return true;
      }
      return !literal.empty() && literal.front() == '/' && path == literal.substr(1);
    case Shape::kGlob: break;
  }
  return MatchElements(pattern.elements, path);
}

bool DockerIgnore::MatchesItselfOrParent(const Pattern& pattern, std::string_view path) {
  if (Matches(pattern, path)) return true;
  std::string_view parent = Dir(path);
  if (parent == ".") return false;
  for (size_t slash = parent.find('/');; slash = parent.find('/', slash + 1)) {
    if (Matches(pattern, parent.substr(0, slash))) return true;
    if (slash == std::string_view::npos) return false;
  }
}

bool DockerIgnore::Excluded(std::string_view path) const {
  std::string cleaned = CleanPath(path);
  while (cleaned.size() > 1 && cleaned.front() == '/') cleaned.erase(0, 1);
  if (cleaned == "." || cleaned == "/") return false;
  bool excluded = false;
  for (const Pattern& pattern : patterns_) {
    // Only a pattern that could change the answer is tried (docker's order).
    if (pattern.exception != excluded) continue;
    if (MatchesItselfOrParent(pattern, cleaned)) excluded = !pattern.exception;
  }
  return excluded;
}

bool DockerIgnore::MustWalk(std::string_view path) const {
  if (!Excluded(path)) return true;
  if (!has_exceptions_) return false;
  return ExceptionBelow(CleanPath(path));
}

// Whether some exception could match a path below `dir`. A pattern without
// "**", classes or escapes matches only paths with as many elements as it
// has, element by element; the others are assumed to (they are rare).
bool DockerIgnore::ExceptionBelow(std::string_view dir) const {
  std::vector<std::string_view> dir_parts = Elements(dir);
  for (const Pattern& pattern : patterns_) {
    if (!pattern.exception) continue;
    if (pattern.text.find_first_of("[\\") != std::string::npos ||
        pattern.text.find("**") != std::string::npos) {
      return true;
    }
    std::vector<std::string_view> parts = Elements(pattern.text);
    if (parts.size() <= dir_parts.size()) continue;
    bool prefix = true;
    for (size_t i = 0; i < dir_parts.size() && prefix; ++i) {
      auto compiled = Compile(std::string(parts[i]), true);
      prefix = compiled.ok() && MatchElements(compiled->elements, dir_parts[i]);
    }
    if (prefix) return true;
  }
  return false;
}

}  // namespace vk::build
