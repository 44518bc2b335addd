// Dockerfile bytes -> logical lines, as BuildKit's parser reads them: parser
// directives at the top, comments, line continuations with the escape
// character (comment and empty lines inside a continuation skipped), and
// heredoc bodies attached to the RUN/COPY/ADD line that opens them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::build {

struct LineRange {
  int first = 0;  // 1-based, inclusive
  int last = 0;
  bool operator==(const LineRange&) const = default;
};

// `# syntax=`, `# escape=`, `# check=` before anything else in the file.
struct Directives {
  std::string syntax;  // recorded; the frontend image it names is not used
  char escape = '\\';  // '\\' or '`'
  std::string check;   // recorded for linters; not acted on
};

struct Heredoc {
  std::string name;     // the delimiter, quotes removed: EOF
  std::string content;  // the body lines with their newlines, as written
  bool expand = true;   // false when the delimiter was quoted: <<'EOF'
  bool chomp = false;   // <<-EOF: leading tabs are stripped from each line
  uint32_t fd = 0;      // 3<<EOF: the descriptor it is fed to; 0 when none given
  bool operator==(const Heredoc&) const = default;

  // The body as the instruction uses it (tabs stripped for <<-).
  std::string Body() const;
};

struct LogicalLine {
  std::string text;  // continuations joined, comments dropped
  LineRange lines;   // the whole extent, heredoc bodies included
  std::vector<Heredoc> heredocs;
};

struct LexWarning {
  int line = 0;
  std::string message;
};

struct LexedDockerfile {
  Directives directives;
  std::vector<LogicalLine> lines;
  std::vector<LexWarning> warnings;
};

// Longest physical line accepted (BuildKit's scanner limit).
inline constexpr size_t kMaxDockerfileLine = 65535;

// Errors (kUsage) read "<file>:<line>: what; how to fix".
Result<LexedDockerfile> LexDockerfile(std::string_view bytes, std::string_view file_name);

// "Dockerfile:12: what is wrong; how to fix" as a kUsage error.
Error DockerfileError(std::string_view file_name, int line, std::string_view what,
                      std::string_view fix);

}  // namespace vk::build
