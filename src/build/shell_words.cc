#include "build/shell_words.h"

#include "build/shell_pattern.h"

namespace vk::build {
namespace {

// Bounds the recursion of nested ${A:-${B:-...}} so a hostile Dockerfile
// cannot exhaust the stack.
constexpr int kMaxNesting = 64;
constexpr int kEnd = -1;

bool IsSpace(int c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
bool IsDigit(int c) { return c >= '0' && c <= '9'; }
bool IsNameChar(int c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
// POSIX special parameters ($@, $*, $#, ...): a one-character name.
bool IsSpecialParameter(int c) {
  return c == '@' || c == '*' || c == '#' || c == '?' || c == '-' || c == '$' || c == '!' ||
         c == '0';
}

Error Syntax(std::string message) { return Error(ErrorKind::kUsage, std::move(message)); }

// Accumulates the words of ProcessWords: text from an unquoted variable is
// split at whitespace, quoted text is kept whole.
class WordSplitter {
 public:
  void AddChar(char c) {
    if (!IsSpace(static_cast<unsigned char>(c))) {
      AddRaw(c);
    } else if (in_word_ && !current_.empty()) {
      words_.push_back(std::move(current_));
      current_.clear();
      in_word_ = false;
    }
  }
  void AddRaw(char c) {
    current_ += c;
    in_word_ = true;
  }
  void AddSplit(std::string_view text) {
    for (char c : text) AddChar(c);
  }
  void AddRawString(std::string_view text) {
    current_ += text;
    in_word_ = true;
  }
  std::vector<std::string> Finish() {
    if (!current_.empty()) words_.push_back(std::move(current_));
    return std::move(words_);
  }

 private:
  std::vector<std::string> words_;
  std::string current_;
  bool in_word_ = false;
};

struct Processed {
  std::string text;
  std::vector<std::string> words;
};

class Processor {
 public:
  Processor(std::string_view input, const VariableLookup& lookup, const ShellWordOptions& options)
      : input_(input), lookup_(lookup), options_(options), raw_escapes_(options.raw_escapes) {}

  Result<Processed> Run() { return ProcessUntil(kEnd, raw_escapes_); }

 private:
  int Peek() const {
    return pos_ < input_.size() ? static_cast<unsigned char>(input_[pos_]) : kEnd;
  }
  int Next() {
    int c = Peek();
    if (c != kEnd) ++pos_;
    return c;
  }

  Result<Processed> ProcessUntil(int stop, bool raw_escapes);
  Result<std::string> SingleQuoted();
  Result<std::string> DoubleQuoted();
  Result<std::string> Dollar();
  Result<std::string> Braced();
  Result<std::string> Modifier(const std::string& name, int op, bool null_is_unset);
  Result<std::string> Substitute(const std::string& name);
  std::string PossibleHeredoc();
  std::string Name();
  std::optional<std::string> Get(const std::string& name) const {
    return lookup_ ? lookup_(name) : std::nullopt;
  }

  std::string_view input_;
  const VariableLookup& lookup_;
  const ShellWordOptions& options_;
  bool raw_escapes_;
  size_t pos_ = 0;
  int depth_ = 0;
};

Result<Processed> Processor::ProcessUntil(int stop, bool raw_escapes) {
  if (++depth_ > kMaxNesting) return Syntax("variable substitutions nested too deeply");
  bool saved_raw = raw_escapes_;
  raw_escapes_ = raw_escapes;
  std::string result;
  WordSplitter words;
  while (Peek() != kEnd) {
    int c = Peek();
    if (stop != kEnd && c == stop) {
      Next();
      raw_escapes_ = saved_raw;
      --depth_;
      return Processed{std::move(result), words.Finish()};
    }
    bool quote = (c == '\'' || c == '"') && !options_.skip_quotes;
    if (c == '$' || c == '<' || quote) {
      std::string piece;
      if (c == '$') {
        piece = VK_TRY(Dollar());
        words.AddSplit(piece);
      } else {
        piece = c == '<' ? PossibleHeredoc() : VK_TRY(c == '\'' ? SingleQuoted() : DoubleQuoted());
        words.AddRawString(piece);
      }
      result += piece;
      continue;
    }
    Next();
    if (c == static_cast<unsigned char>(options_.escape)) {
      if (raw_escapes_) {
        words.AddRaw(static_cast<char>(c));
        result += static_cast<char>(c);
      }
      c = Next();  // the escape protects the next character; alone at the end it is dropped
      if (c == kEnd) break;
      words.AddRaw(static_cast<char>(c));
    } else {
      words.AddChar(static_cast<char>(c));
    }
    result += static_cast<char>(c);
  }
  raw_escapes_ = saved_raw;
  --depth_;
  if (stop != kEnd) {
    return Syntax(std::string("unexpected end of statement while looking for matching ") +
                  static_cast<char>(stop));
  }
  return Processed{std::move(result), words.Finish()};
}

// Everything up to the next ' is literal; a ' cannot be escaped inside.
Result<std::string> Processor::SingleQuoted() {
  std::string out;
  int c = Next();
  if (options_.raw_quotes) out += static_cast<char>(c);
  while (true) {
    c = Next();
    if (c == kEnd) return Syntax("unexpected end of statement while looking for matching '");
    if (c == '\'') {
      if (options_.raw_quotes) out += '\'';
      return out;
    }
    out += static_cast<char>(c);
  }
}

// Literal except $ (expanded) and the escape, which protects only " $ and
// itself (other escapes stay, as in sh).
Result<std::string> Processor::DoubleQuoted() {
  std::string out;
  int c = Next();
  if (options_.raw_quotes) out += static_cast<char>(c);
  const int escape = static_cast<unsigned char>(options_.escape);
  while (true) {
    c = Peek();
    if (c == kEnd) return Syntax("unexpected end of statement while looking for matching \"");
    if (c == '"') {
      Next();
      if (options_.raw_quotes) out += '"';
      return out;
    }
    if (c == '$') {
      out += VK_TRY(Dollar());
      continue;
    }
    c = Next();
    if (c == escape) {
      if (raw_escapes_) out += static_cast<char>(c);
      int following = Peek();
      if (following == kEnd) continue;
      if (following == '"' || following == '$' || following == escape) c = Next();
    }
    out += static_cast<char>(c);
  }
}

std::string Processor::Name() {
  std::string name;
  if (IsDigit(Peek())) {
    while (IsDigit(Peek())) name += static_cast<char>(Next());
    return name;
  }
  if (IsSpecialParameter(Peek())) return std::string(1, static_cast<char>(Next()));
  while (IsNameChar(Peek())) name += static_cast<char>(Next());
  return name;
}

Result<std::string> Processor::Dollar() {
  Next();  // '$'
  if (Peek() != '{') {
    std::string name = Name();
    if (name.empty()) return std::string("$");
    std::optional<std::string> value = Get(name);
    if (!value && options_.skip_unset) return "$" + name;
    return value.value_or("");
  }
  Next();  // '{'
  return Braced();
}

Result<std::string> Processor::Braced() {
  int c = Peek();
  if (c == kEnd) return Syntax("syntax error: missing '}'");
  if (c == '{' || c == '}' || c == ':') return Syntax("syntax error: bad substitution");
  std::string name = Name();
  int op = Next();
  if (op == '}') {
    std::optional<std::string> value = Get(name);
    if (!value && options_.skip_unset) return "${" + name + "}";
    return value.value_or("");
  }
  if (op == kEnd) return Syntax("syntax error: missing '}'");
  if (op == ':') return Modifier(name, Next(), /*null_is_unset=*/true);
  if (op == '/') return Substitute(name);
  return Modifier(name, op, /*null_is_unset=*/false);
}

Result<std::string> Processor::Modifier(const std::string& name, int op, bool null_is_unset) {
  std::string spelled = std::string(null_is_unset ? ":" : "") +
                        (op == kEnd ? "" : std::string(1, static_cast<char>(op)));
  bool is_pattern = op == '#' || op == '%';
  if (op != '-' && op != '+' && op != '?' && !is_pattern) {
    if (op == kEnd) return Syntax("syntax error: missing '}'");
    return Syntax("unsupported modifier (" + spelled + ") in substitution");
  }
  if (null_is_unset && is_pattern) {
    return Syntax("unsupported modifier (" + spelled + ") in substitution");
  }
  auto word_result = ProcessUntil('}', /*raw_escapes=*/is_pattern);
  if (!word_result.ok()) {
    if (Peek() == kEnd) return Syntax("syntax error: missing '}'");
    return std::move(word_result).error();
  }
  std::string word = std::move(word_result->text);
  std::optional<std::string> value = Get(name);
  if (!value && options_.skip_unset) return "${" + name + spelled + word + "}";
  bool empty = !value || (null_is_unset && value->empty());
  switch (op) {
    case '-': return empty ? word : *value;
    case '+': return empty ? std::string() : word;
    case '?':
      if (!value) return Syntax(name + ": " + (word.empty() ? "is not allowed to be unset" : word));
      if (empty) return Syntax(name + ": " + (word.empty() ? "is not allowed to be empty" : word));
      return *value;
    default: break;
  }
  // %% and ## remove the longest match, % and # the shortest.
  bool longest = !word.empty() && word[0] == static_cast<char>(op);
  ShellPattern pattern = VK_TRY(ShellPattern::Compile(longest ? word.substr(1) : word));
  const std::string& subject = value ? *value : std::string();
  return op == '%' ? pattern.TrimSuffix(subject, longest) : pattern.TrimPrefix(subject, longest);
}

Result<std::string> Processor::Substitute(const std::string& name) {
  bool all = Peek() == '/';
  if (all) Next();
  auto pattern_word = ProcessUntil('/', /*raw_escapes=*/true);
  if (!pattern_word.ok()) {
    if (Peek() == kEnd) return Syntax("syntax error: missing '/' in ${}");
    return std::move(pattern_word).error();
  }
  auto replacement = ProcessUntil('}', /*raw_escapes=*/true);
  if (!replacement.ok()) {
    if (Peek() == kEnd) return Syntax("syntax error: missing '}'");
    return std::move(replacement).error();
  }
  std::optional<std::string> value = Get(name);
  if (!value && options_.skip_unset) {
    return "${" + name + "/" + pattern_word->text + "/" + replacement->text + "}";
  }
  ShellPattern pattern = VK_TRY(ShellPattern::Compile(pattern_word->text));
  return pattern.Replace(value.value_or(""), replacement->text, all);
}

// "<<" and the blanks after it are kept unsplit, so "<< EOF" stays one word
// for the heredoc detection (BuildKit does the same).
std::string Processor::PossibleHeredoc() {
  Next();
  if (Peek() != '<') return "<";
  Next();
  std::string out = "<<";
  while (Peek() == ' ' || Peek() == '\t' || Peek() == '\r') out += static_cast<char>(Next());
  return out;
}

}  // namespace

Result<std::string> ExpandWord(std::string_view word, const VariableLookup& lookup,
                               const ShellWordOptions& options) {
  Processor processor(word, lookup, options);
  auto processed = processor.Run();
  if (!processed.ok()) {
    return std::move(processed).error().WithContext("expand \"" + std::string(word) + "\"");
  }
  return std::move(processed->text);
}

Result<std::vector<std::string>> ExpandWords(std::string_view text, const VariableLookup& lookup,
                                             const ShellWordOptions& options) {
  Processor processor(text, lookup, options);
  auto processed = processor.Run();
  if (!processed.ok()) {
    return std::move(processed).error().WithContext("expand \"" + std::string(text) + "\"");
  }
  return std::move(processed->words);
}

VariableLookup NoVariables() {
  return [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
}

}  // namespace vk::build
