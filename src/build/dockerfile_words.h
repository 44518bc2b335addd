// How one logical Dockerfile line splits into its instruction word, its
// `--flag` words and its arguments, before any instruction-specific parsing
// (BuildKit's parser/split_command.go and line_parsers.go semantics).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vk::build {

struct SplitLine {
  std::string command;             // as written: "RUN", "copy"
  std::vector<std::string> flags;  // "--from=build", quotes and escapes removed
  std::string args;                // the rest, trimmed
};

// "COPY --from=b a b" -> {"COPY", {"--from=b"}, "a b"}. Flags are the leading
// words that start with "--"; a lone "--" ends them.
SplitLine SplitInstructionLine(std::string_view line, char escape);

// Words separated by unquoted whitespace, with quotes and escapes kept so the
// later expansion removes them (ENV/LABEL/ARG arguments).
std::vector<std::string> SplitQuotedWords(std::string_view text, char escape);

// Words separated by runs of " \t\v\f\r" (FROM, EXPOSE, shell-form COPY).
std::vector<std::string> SplitBlanks(std::string_view text);

// The blanks Go's unicode.IsSpace knows in ASCII.
bool IsBlank(char c);
std::string_view TrimBlanks(std::string_view text);

}  // namespace vk::build
