// .dockerignore: which context paths a build leaves out, with docker's rules
// (moby/patternmatcher and its ignorefile reader): one pattern per line, `#`
// comment lines, patterns cleaned like filepath.Clean with a leading `/`
// dropped, `*` and `?` within one path element, `**` across elements,
// `[a-z]` classes, `\` escapes, `!` exceptions. A path is excluded when a
// pattern matches it or one of its parent directories; the last matching
// pattern decides.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::build {

// filepath.Clean for slash-separated paths: "a//b/./c/.." -> "a/b", "" -> ".".
std::string CleanPath(std::string_view path);

class DockerIgnore {
 public:
  // The contents of a .dockerignore file. Errors (kUsage) name the line.
  static Result<DockerIgnore> Parse(std::string_view contents);
  // Patterns as a list, each like one line of the file.
  static Result<DockerIgnore> FromPatterns(const std::vector<std::string>& patterns);

  // Whether `path` (relative to the context, '/'-separated) is left out.
  // The context root itself never is.
  bool Excluded(std::string_view path) const;
  // Whether a walker must look inside directory `path`: it is not excluded,
  // or an exception (!pattern) may re-include something below it.
  bool MustWalk(std::string_view path) const;
  bool HasExceptions() const { return has_exceptions_; }
  bool empty() const { return patterns_.empty(); }

 private:
  enum class Token { kLiteral, kAnyOne, kStar, kClass, kAnyDirs, kAnything };
  struct Element {
    Token token;
    char literal = 0;
    bool negated = false;
    std::vector<std::pair<char, char>> ranges;  // kClass
  };
  // How a pattern is tested: most are plain names and need no automaton.
  enum class Shape {
    kExact,   // only literal characters: path == literal
    kPrefix,  // literals then a final "**": path starts with literal
    kSuffix,  // "**" then literals: docker tests "path ends with literal"
    kGlob,    // anything else: the automaton over `elements`
  };
  struct Pattern {
    std::string text;  // cleaned, without the '!'
    bool exception = false;
    Shape shape = Shape::kGlob;
    std::string literal;  // kExact/kPrefix/kSuffix: the text compared
    std::vector<Element> elements;
  };

  static Result<Pattern> Compile(std::string text, bool exception);
  static Result<void> CompileClass(std::string_view text, size_t& pos, Element& element);
  static void Classify(Pattern& pattern);
  static bool Matches(const Pattern& pattern, std::string_view path);
  static bool MatchElements(const std::vector<Element>& elements, std::string_view path);
  static bool MatchesItselfOrParent(const Pattern& pattern, std::string_view path);
  bool ExceptionBelow(std::string_view dir) const;

  std::vector<Pattern> patterns_;
  bool has_exceptions_ = false;
};

}  // namespace vk::build
