#include "build/dockerfile_words.h"

namespace vk::build {
namespace {

// The separator BuildKit splits commands and plain lists with ([\t\v\f\r ]+):
// no '\n', which can only appear inside a joined heredoc-free line anyway.
bool IsSeparator(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r'; }

// Reads one flag word starting at `pos` (which holds "--"): quotes group,
// the escape character protects the next character. Returns the end.
size_t ReadFlagWord(std::string_view line, size_t pos, char escape, std::string& word) {
  char quote = 0;
  while (pos < line.size()) {
    char c = line[pos];
    if (quote == 0 && IsBlank(c)) break;
    ++pos;
    if (quote == 0 && (c == '\'' || c == '"')) {
      quote = c;
      continue;
    }
    if (quote != 0 && c == quote) {
      quote = 0;
      continue;
    }
    if (c == escape) {
      if (pos == line.size()) break;  // an escape at the very end is dropped
      c = line[pos++];
    }
    word += c;
  }
  return pos;
}

}  // namespace

bool IsBlank(char c) { return IsSeparator(c) || c == '\n'; }

std::string_view TrimBlanks(std::string_view text) {
  while (!text.empty() && IsBlank(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsBlank(text.back())) text.remove_suffix(1);
  return text;
}

SplitLine SplitInstructionLine(std::string_view line, char escape) {
  SplitLine out;
  line = TrimBlanks(line);
  size_t end = 0;
  while (end < line.size() && !IsSeparator(line[end])) ++end;
  out.command = std::string(line.substr(0, end));
  size_t pos = end;
  while (pos < line.size()) {
    while (pos < line.size() && IsBlank(line[pos])) ++pos;
    if (line.substr(pos, 2) != "--") break;
    std::string word;
    size_t after = ReadFlagWord(line, pos, escape, word);
    if (word == "--") {  // "--" ends the flags and is not an argument
      pos = after;
      break;
    }
    out.flags.push_back(std::move(word));
    pos = after;
  }
  out.args = std::string(TrimBlanks(line.substr(std::min(pos, line.size()))));
  return out;
}

std::vector<std::string> SplitQuotedWords(std::string_view text, char escape) {
  std::vector<std::string> words;
  std::string word;
  bool quoted = false;  // a quoted empty string ("") is still a word
  char quote = 0;
  auto finish = [&] {
    if (!word.empty() || quoted) words.push_back(std::move(word));
    word.clear();
    quoted = false;
  };
  for (size_t pos = 0; pos < text.size(); ++pos) {
    char c = text[pos];
    if (quote == 0 && IsBlank(c)) {
      finish();
      continue;
    }
    if (quote == 0 && (c == '\'' || c == '"')) {
      quote = c;
      quoted = true;
    } else if (quote != 0 && c == quote) {
      quote = 0;
    } else if (c == escape && quote != '\'') {
      // The escape and the character it protects both stay in the word.
      if (pos + 1 == text.size()) continue;
      word += c;
      c = text[++pos];
    }
    word += c;
  }
  finish();
  return words;
}

std::vector<std::string> SplitBlanks(std::string_view text) {
  std::vector<std::string> words;
  size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && IsSeparator(text[pos])) ++pos;
    size_t start = pos;
    while (pos < text.size() && !IsSeparator(text[pos])) ++pos;
    if (pos > start) words.emplace_back(text.substr(start, pos - start));
  }
  return words;
}

}  // namespace vk::build
