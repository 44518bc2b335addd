#include "build/dockerfile_lexer.h"

#include <optional>

#include "build/ascii.h"
#include "build/dockerfile_words.h"
#include "build/heredoc_words.h"

namespace vk::build {
namespace {

std::string_view TrimNewline(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  return line;
}

std::string_view TrimLeadingBlanks(std::string_view line) {
  while (!line.empty() && IsBlank(line.front())) line.remove_prefix(1);
  return line;
}

bool IsComment(std::string_view line) {
  line = TrimLeadingBlanks(line);
  return !line.empty() && line.front() == '#';
}

// The escape character as the last non-blank character continues the line,
// unless it is itself escaped by the character before it (BuildKit's
// continuation regex). Returns the line without it.
std::optional<std::string_view> ContinuedLine(std::string_view line, char escape) {
  std::string_view trimmed = line;
  while (!trimmed.empty() && (trimmed.back() == ' ' || trimmed.back() == '\t')) {
    trimmed.remove_suffix(1);
  }
  if (trimmed.empty() || trimmed.back() != escape) return std::nullopt;
  trimmed.remove_suffix(1);
  if (!trimmed.empty() && trimmed.back() == escape) return std::nullopt;
  return trimmed;
}

// Parser directives: only in the leading comment lines; the first line that
// is not `# key=value` with a known key ends them for the rest of the file.
class DirectiveReader {
 public:
  explicit DirectiveReader(std::string_view file_name) : file_name_(file_name) {}

  Result<void> Read(std::string_view line, int line_number, Directives& directives);

 private:
  std::string_view file_name_;
  bool done_ = false;
  bool seen_syntax_ = false, seen_escape_ = false, seen_check_ = false;
};

bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiAlnum(char c) { return IsAsciiAlpha(c) || (c >= '0' && c <= '9'); }

Result<void> DirectiveReader::Read(std::string_view line, int line_number, Directives& directives) {
  if (done_) return Ok();
  if (line.empty() || line.front() != '#') {
    done_ = true;
    return Ok();
  }
  line = TrimBlanks(line.substr(1));
  size_t key_end = 0;
  while (key_end < line.size() && IsAsciiAlnum(line[key_end])) ++key_end;
  size_t eq = key_end;
  while (eq < line.size() && IsBlank(line[eq])) ++eq;
  std::string_view value = eq < line.size() ? TrimBlanks(line.substr(eq + 1)) : "";
  std::string key = AsciiLower(line.substr(0, key_end));
  bool known = key == "syntax" || key == "escape" || key == "check";
  if (key_end == 0 || !IsAsciiAlpha(line[0]) || eq >= line.size() || line[eq] != '=' ||
      value.empty() || !known) {
    done_ = true;
    return Ok();
  }
  bool& seen = key == "syntax" ? seen_syntax_ : key == "escape" ? seen_escape_ : seen_check_;
  if (seen) {
    return DockerfileError(file_name_, line_number,
                           "only one " + key + " parser directive can be used",
                           "remove the repeated `# " + key + "=` line");
  }
  seen = true;
  if (key == "syntax") {
    directives.syntax = std::string(value);
  } else if (key == "check") {
    directives.check = std::string(value);
  } else if (value == "\\" || value == "`") {
    directives.escape = value[0];
  } else {
    return DockerfileError(file_name_, line_number,
                           "invalid escape token '" + std::string(value) + "'",
                           "use `# escape=\\` or `# escape=``");
  }
  return Ok();
}

// Physical lines with their newline; the last one may lack it.
class LineSource {
 public:
  explicit LineSource(std::string_view bytes) : bytes_(bytes) {}
  bool Next(std::string_view& line) {
    if (pos_ >= bytes_.size()) return false;
    size_t newline = bytes_.find('\n', pos_);
    size_t end = newline == std::string_view::npos ? bytes_.size() : newline + 1;
    line = bytes_.substr(pos_, end - pos_);
    pos_ = end;
    ++number_;
    return true;
  }
  int number() const { return number_; }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
  int number_ = 0;
};

class Lexer {
 public:
  Lexer(std::string_view bytes, std::string_view file_name)
      : source_(bytes), file_name_(file_name), directive_reader_(file_name) {}

  Result<LexedDockerfile> Run();

 private:
  Result<bool> NextPhysical(std::string_view& line);
  Result<std::optional<LogicalLine>> NextLogical();
  Result<void> ReadHeredocBodies(LogicalLine& logical);

  LineSource source_;
  std::string_view file_name_;
  DirectiveReader directive_reader_;
  LexedDockerfile out_;
};

Result<bool> Lexer::NextPhysical(std::string_view& line) {
  if (!source_.Next(line)) return false;
  if (TrimNewline(line).size() > kMaxDockerfileLine) {
    return DockerfileError(file_name_, source_.number(),
                           "line longer than " + std::to_string(kMaxDockerfileLine) + " bytes",
                           "split it with line continuations");
  }
  if (source_.number() == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
  return true;
}

Result<std::optional<LogicalLine>> Lexer::NextLogical() {
  std::string_view raw;
  while (VK_TRY(NextPhysical(raw))) {
    std::string_view line = TrimLeadingBlanks(TrimNewline(raw));
    VK_TRY(directive_reader_.Read(line, source_.number(), out_.directives));
    if (IsComment(line)) continue;
    LogicalLine logical;
    logical.lines.first = source_.number();
    std::optional<std::string_view> continued = ContinuedLine(line, out_.directives.escape);
    if (!continued && line.empty()) continue;
    logical.text = std::string(continued.value_or(line));
    bool empty_continuation = false;
    while (continued && VK_TRY(NextPhysical(raw))) {
      std::string_view next = TrimNewline(raw);
      if (IsComment(next)) continue;
      if (TrimLeadingBlanks(next).empty()) {
        empty_continuation = true;
        continue;
      }
      continued = ContinuedLine(next, out_.directives.escape);
      logical.text += continued.value_or(next);
    }
    logical.lines.last = source_.number();
    if (empty_continuation) {
      out_.warnings.push_back(
          {logical.lines.last, "empty continuation line in: " + logical.text +
                                   " (empty continuation lines will become errors)"});
    }
    return std::optional<LogicalLine>(std::move(logical));
  }
  return std::optional<LogicalLine>();
}

Result<void> Lexer::ReadHeredocBodies(LogicalLine& logical) {
  if (!MayOpenHeredocs(logical.text, out_.directives.escape)) return Ok();
  auto found = HeredocsOfLine(logical.text);
  if (!found.ok()) {
    return DockerfileError(file_name_, logical.lines.first, found.error().message(),
                           "write the heredoc delimiter as <<WORD, <<-WORD or <<'WORD'");
  }
  std::vector<Heredoc> heredocs = std::move(found).value();
  for (Heredoc& heredoc : heredocs) {
    bool terminated = false;
    std::string_view raw;
    while (VK_TRY(NextPhysical(raw))) {
      std::string_view candidate = TrimNewline(raw);
      if (heredoc.chomp) {
        while (!candidate.empty() && candidate.front() == '\t') candidate.remove_prefix(1);
      }
      if (candidate == heredoc.name) {
        terminated = true;
        break;
      }
      heredoc.content += raw;
    }
    if (!terminated) {
      return DockerfileError(file_name_, logical.lines.first,
                             "unterminated heredoc " + heredoc.name,
                             "end it with a line holding only `" + heredoc.name + "`");
    }
    logical.heredocs.push_back(std::move(heredoc));
  }
  logical.lines.last = source_.number();
  return Ok();
}

Result<LexedDockerfile> Lexer::Run() {
  while (true) {
    std::optional<LogicalLine> logical = VK_TRY(NextLogical());
    if (!logical) break;
    VK_TRY(ReadHeredocBodies(*logical));
    out_.lines.push_back(std::move(*logical));
  }
  return std::move(out_);
}

}  // namespace

std::string Heredoc::Body() const {
  if (!chomp) return content;
  std::string out;
  bool line_start = true;
  for (char c : content) {
    if (line_start && c == '\t') continue;
    line_start = c == '\n';
    out += c;
  }
  return out;
}

Error DockerfileError(std::string_view file_name, int line, std::string_view what,
                      std::string_view fix) {
  std::string message =
      std::string(file_name) + ":" + std::to_string(line) + ": " + std::string(what);
  if (!fix.empty()) message += "; " + std::string(fix);
  return Error(ErrorKind::kUsage, std::move(message));
}

Result<LexedDockerfile> LexDockerfile(std::string_view bytes, std::string_view file_name) {
  return Lexer(bytes, file_name).Run();
}

}  // namespace vk::build
