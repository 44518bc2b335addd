#include "build/json_array.h"

#include <cstdint>
#include <optional>

namespace vk::build {
namespace {

// Deeper nesting is treated as "not JSON" (shell form): bounds the recursion
// a hostile argument can cause.
constexpr int kMaxDepth = 64;

void AppendUtf8(uint32_t code, std::string& out) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

class JsonReader {
 public:
  explicit JsonReader(std::string_view text) : text_(text) {}

  // Parses one value; strings are decoded into `string_out` when it is set.
  bool Value(int depth, std::string* string_out, bool* is_string);
  bool Array(int depth, std::vector<std::string>* strings, bool* all_strings);
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool AtEnd() const { return pos_ == text_.size(); }

 private:
  bool String(std::string* out);
  std::optional<uint32_t> Hex4();
  bool Number();
  bool Literal(std::string_view word);
  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Digits() {
    size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

bool JsonReader::Value(int depth, std::string* string_out, bool* is_string) {
  SkipSpace();
  if (pos_ >= text_.size()) return false;
  *is_string = false;
  switch (text_[pos_]) {
    case '"': *is_string = true; return String(string_out);
    case '[': {
      bool ignored = false;
      return Array(depth + 1, nullptr, &ignored);
    }
    case '{': {
      if (depth + 1 > kMaxDepth) return false;
      ++pos_;
      SkipSpace();
      if (Consume('}')) return true;
      do {
        SkipSpace();
        if (!String(nullptr)) return false;
        SkipSpace();
        if (!Consume(':')) return false;
        bool member_is_string = false;
        if (!Value(depth + 1, nullptr, &member_is_string)) return false;
        SkipSpace();
      } while (Consume(','));
      return Consume('}');
    }
    case 't': return Literal("true");
    case 'f': return Literal("false");
    case 'n': return Literal("null");
    default: return Number();
  }
}

bool JsonReader::Array(int depth, std::vector<std::string>* strings, bool* all_strings) {
  if (depth > kMaxDepth || !Consume('[')) return false;
  *all_strings = true;
  SkipSpace();
  if (Consume(']')) return true;
  do {
    std::string element;
    bool is_string = false;
    if (!Value(depth, strings ? &element : nullptr, &is_string)) return false;
    if (!is_string) *all_strings = false;
    if (strings && is_string) strings->push_back(std::move(element));
    SkipSpace();
  } while (Consume(','));
  return Consume(']');
}

bool JsonReader::String(std::string* out) {
  if (!Consume('"')) return false;
  while (pos_ < text_.size()) {
    unsigned char c = static_cast<unsigned char>(text_[pos_++]);
    if (c == '"') return true;
    if (c < 0x20) return false;  // raw control characters are invalid JSON
    if (c != '\\') {
      if (out) *out += static_cast<char>(c);
      continue;
    }
    if (pos_ >= text_.size()) return false;
    char escape = text_[pos_++];
    uint32_t code = 0;
    switch (escape) {
      case '"':
      case '\\':
      case '/': code = static_cast<uint32_t>(escape); break;
      case 'b': code = '\b'; break;
      case 'f': code = '\f'; break;
      case 'n': code = '\n'; break;
      case 'r': code = '\r'; break;
      case 't': code = '\t'; break;
      case 'u': {
        std::optional<uint32_t> unit = Hex4();
        if (!unit) return false;
        code = *unit;
        // A lone or mismatched surrogate decodes to U+FFFD, as Go does.
        if (code >= 0xD800 && code < 0xDC00 && text_.substr(pos_, 2) == "\\u") {
          size_t saved = pos_;
          pos_ += 2;
          std::optional<uint32_t> low = Hex4();
          if (low && *low >= 0xDC00 && *low < 0xE000) {
            code = 0x10000 + ((code - 0xD800) << 10) + (*low - 0xDC00);
          } else {
            pos_ = saved;
            code = 0xFFFD;
          }
        } else if (code >= 0xD800 && code < 0xE000) {
          code = 0xFFFD;
        }
        break;
      }
      default: return false;
    }
    if (out) AppendUtf8(code, *out);
  }
  return false;
}

std::optional<uint32_t> JsonReader::Hex4() {
  if (text_.size() - pos_ < 4) return std::nullopt;
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    char c = text_[pos_++];
    value <<= 4;
    if (c >= '0' && c <= '9') {
      value |= static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      value |= static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      value |= static_cast<uint32_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
  }
  return value;
}

// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool JsonReader::Number() {
  Consume('-');
  if (Consume('0')) {
    // a leading zero stands alone
  } else if (pos_ < text_.size() && text_[pos_] >= '1' && text_[pos_] <= '9') {
    Digits();
  } else {
    return false;
  }
  if (Consume('.') && !Digits()) return false;
  if (Consume('e') || Consume('E')) {
    if (!Consume('+')) Consume('-');
    if (!Digits()) return false;
  }
  return true;
}

bool JsonReader::Literal(std::string_view word) {
  if (text_.substr(pos_, word.size()) != word) return false;
  pos_ += word.size();
  return true;
}

}  // namespace

JsonArray ParseJsonArray(std::string_view text) {
  JsonReader reader(text);
  reader.SkipSpace();
  JsonArray result;
  bool all_strings = false;
  if (!reader.Array(1, &result.strings, &all_strings)) return {};
  reader.SkipSpace();
  if (!reader.AtEnd()) return {};
  if (!all_strings) {
    result.strings.clear();
    result.kind = JsonArrayKind::kNotStrings;
    return result;
  }
  result.kind = JsonArrayKind::kStrings;
  return result;
}

}  // namespace vk::build
