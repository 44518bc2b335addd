#include "build/heredoc_words.h"

#include <algorithm>

#include "build/ascii.h"
#include "build/dockerfile_words.h"
#include "build/json_array.h"
#include "build/shell_words.h"

namespace vk::build {
namespace {

constexpr uint32_t kMaxFd = 1u << 20;

size_t CountQuotes(std::string_view text) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), '\'') +
                             std::count(text.begin(), text.end(), '"'));
}

// Heredoc words are always lexed with the backslash, whatever `# escape=`
// says (BuildKit does the same).
ShellWordOptions HeredocLexing(bool raw) {
  ShellWordOptions options;
  options.skip_unset = true;
  options.raw_quotes = raw;
  return options;
}

}  // namespace

bool MayOpenHeredocs(std::string_view line, char escape) {
  if (line.find("<<") == std::string_view::npos) return false;
  SplitLine split = SplitInstructionLine(line, escape);
  std::string command = AsciiLower(split.command);
  if (command == "onbuild") {
    split = SplitInstructionLine(split.args, escape);
    command = AsciiLower(split.command);
  }
  if (command != "run" && command != "copy" && command != "add") return false;
  // The exec (JSON) form takes no heredocs.
  return split.args.empty() || ParseJsonArray(split.args).kind != JsonArrayKind::kStrings;
}

Result<std::optional<Heredoc>> HeredocOfWord(std::string_view word) {
  size_t pos = 0;
  while (pos < word.size() && word[pos] >= '0' && word[pos] <= '9') ++pos;
  std::string_view digits = word.substr(0, pos);
  if (word.substr(pos, 2) != "<<") return std::optional<Heredoc>();
  pos += 2;
  Heredoc heredoc;
  if (pos < word.size() && word[pos] == '-') {
    heredoc.chomp = true;
    ++pos;
  }
  while (pos < word.size() && (word[pos] == ' ' || word[pos] == '\t' || word[pos] == '\n' ||
                               word[pos] == '\r' || word[pos] == '\f')) {
    ++pos;
  }
  std::string_view rest = word.substr(pos);
  if (rest.empty() || rest.find('<') != std::string_view::npos) return std::optional<Heredoc>();
  std::vector<std::string> words = VK_TRY(ExpandWords(rest, NoVariables(), HeredocLexing(false)));
  if (words.size() != 1) return std::optional<Heredoc>();
  std::vector<std::string> raw = VK_TRY(ExpandWords(rest, NoVariables(), HeredocLexing(true)));
  if (raw.size() != 1)
    return Error(ErrorKind::kUsage, "inconsistent heredoc word " + std::string(rest));
  heredoc.name = words[0];
  // A quote anywhere in the delimiter turns expansion off, as in sh.
  heredoc.expand = CountQuotes(words[0]) == CountQuotes(raw[0]);
  // A descriptor number too big for any process saturates instead of wrapping.
  for (char c : digits) {
    if (heredoc.fd < kMaxFd) heredoc.fd = heredoc.fd * 10 + static_cast<uint32_t>(c - '0');
  }
  return std::optional<Heredoc>(std::move(heredoc));
}

Result<std::vector<Heredoc>> HeredocsOfLine(std::string_view line) {
  ShellWordOptions options = HeredocLexing(true);
  options.raw_escapes = true;
  // A line the lexer cannot split opens no heredoc (BuildKit ignores the error).
  auto words = ExpandWords(line, NoVariables(), options);
  std::vector<Heredoc> heredocs;
  if (!words.ok()) return heredocs;
  for (const std::string& word : *words) {
    std::optional<Heredoc> heredoc = VK_TRY(HeredocOfWord(word));
    if (heredoc) heredocs.push_back(std::move(*heredoc));
  }
  return heredocs;
}

}  // namespace vk::build
