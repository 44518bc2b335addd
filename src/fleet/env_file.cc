#include "fleet/env_file.h"

#include "fleet/text_file.h"

namespace vk::fleet {
namespace {

constexpr uint64_t kMaxEnvFile = 1 << 20;

bool KeyChar(char c) {
  return c == '_' || c == '.' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

class EnvParser {
 public:
  EnvParser(std::string_view text, const std::string& file, const VariableLookup& lookup)
      : text_(text), file_(file), lookup_(lookup) {}

  Result<EnvEntries> Run() {
    while (pos_ < text_.size()) {
      SkipBlanks();
      if (pos_ >= text_.size()) break;
      if (text_[pos_] == '\n' || text_[pos_] == '#') {
        SkipLine();
        continue;
      }
      VK_TRY(Entry());
    }
    return std::move(entries_);
  }

 private:
  Error Fail(std::string message) const {
    return Error(ErrorKind::kUsage, file_ + ":" + std::to_string(line_) + ": " + message);
  }
  void SkipBlanks() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\r'))
      ++pos_;
  }
  void SkipLine() {
    while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
    if (pos_ < text_.size()) ++pos_, ++line_;
  }
  std::string_view RestOfLine() {
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view rest = text_.substr(pos_, end - pos_);
    pos_ = end;
    return rest;
  }

  Result<void> Entry() {
    if (text_.substr(pos_, 7) == "export ") {
      pos_ += 7;
      SkipBlanks();
    }
    size_t start = pos_;
    while (pos_ < text_.size() && KeyChar(text_[pos_])) ++pos_;
    std::string key(text_.substr(start, pos_ - start));
    SkipBlanks();
    if (key.empty() || (key[0] >= '0' && key[0] <= '9'))
      return Fail("expected KEY=VALUE, found \"" + std::string(RestOfLine()) + "\"");
    if (pos_ >= text_.size() || text_[pos_] == '\n' || text_[pos_] == '#') {
      SkipLine();  // a bare KEY: vk's environment decides
      if (auto value = lookup_(key)) entries_.emplace_back(key, *value);
      return Ok();
    }
    if (text_[pos_] != '=') return Fail("expected '=' after " + key);
    ++pos_;
    SkipBlanks();
    std::string value = VK_TRY(Value());
    entries_.emplace_back(std::move(key), std::move(value));
    SkipLine();
    return Ok();
  }

  Result<std::string> Value() {
    const int first_line = line_;
    if (pos_ < text_.size() && (text_[pos_] == '\'' || text_[pos_] == '"')) {
      const char quote = text_[pos_++];
      std::string value;
      for (; pos_ < text_.size() && text_[pos_] != quote; ++pos_) {
        char c = text_[pos_];
        if (c == '\n') ++line_;
        if (quote == '"' && c == '\\' && pos_ + 1 < text_.size()) {
          c = text_[++pos_];
          if (c == 'n')
            c = '\n';
          else if (c == 't')
            c = '\t';
          else if (c == 'r')
            c = '\r';
          else if (c != '"' && c != '\\' && c != '$')
            value += '\\';
        }
        value += c;
      }
      if (pos_ >= text_.size()) {
        line_ = first_line;
        return Fail(std::string("unterminated ") + quote + " quote");
      }
      ++pos_;
      return quote == '"' ? Expand(value) : Result<std::string>(value);
    }
    std::string_view raw = RestOfLine();
    // An unquoted value ends at " #": a comment.
    size_t comment = raw.find(" #");
    if (comment != std::string_view::npos) raw = raw.substr(0, comment);
    while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\r'))
      raw.remove_suffix(1);
    return Expand(raw);
  }

  Result<std::string> Expand(std::string_view value) {
    VariableLookup lookup = [this](std::string_view name) -> std::optional<std::string> {
      if (auto value = lookup_(name)) return value;
      for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
        if (it->first == name) return it->second;
      }
      return std::nullopt;
    };
    auto expanded = Interpolate(value, lookup);
    if (!expanded.ok()) return Fail(expanded.error().message());
    return std::move(expanded).value();
  }

  std::string_view text_;
  const std::string& file_;
  const VariableLookup& lookup_;
  size_t pos_ = 0;
  int line_ = 1;
  EnvEntries entries_;
};

}  // namespace

Result<EnvEntries> ParseEnvFile(std::string_view text, const std::string& file,
                                const VariableLookup& lookup) {
  return EnvParser(text, file, lookup).Run();
}

Result<EnvEntries> ReadEnvFile(const std::string& path, const VariableLookup& lookup) {
  std::string text = VK_TRY_CTX(ReadUserTextFile(path, kMaxEnvFile), "env file");
  return ParseEnvFile(text, path, lookup);
}

}  // namespace vk::fleet
