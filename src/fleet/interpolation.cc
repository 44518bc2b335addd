#include "fleet/interpolation.h"

#include <cstdlib>

namespace vk::fleet {
namespace {

bool NameStart(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool NameChar(char c) { return NameStart(c) || (c >= '0' && c <= '9'); }

Error Invalid(std::string_view text) {
  return Error(ErrorKind::kUsage, "invalid interpolation format \"" + std::string(text) +
                                      "\": write $$ for a literal $");
}

class Interpolator {
 public:
  Interpolator(const VariableLookup& lookup, std::vector<std::string>* unset)
      : lookup_(lookup), unset_(unset) {}

  Result<std::string> Run(std::string_view text) {
    std::string out;
    size_t i = 0;
    while (i < text.size()) {
      if (text[i] != '$') {
        out += text[i++];
        continue;
      }
      if (i + 1 >= text.size()) return Invalid(text);
      char next = text[i + 1];
      if (next == '$') {
        out += '$';
        i += 2;
      } else if (next == '{') {
        size_t close = MatchingBrace(text, i + 2);
        if (close == std::string_view::npos) return Invalid(text);
        out += VK_TRY(Braced(text.substr(i + 2, close - i - 2), text));
        i = close + 1;
      } else if (NameStart(next)) {
        size_t end = i + 1;
        while (end < text.size() && NameChar(text[end])) ++end;
        out += Value(text.substr(i + 1, end - i - 1)).value_or("");
        i = end;
      } else {
        return Invalid(text);
      }
    }
    return out;
  }

 private:
  // The '}' closing a "${" whose body starts at `from`: nested "${...}" in a
  // default count, so "${A:-${B}}" is one expression.
  static size_t MatchingBrace(std::string_view text, size_t from) {
    int depth = 1;
    for (size_t i = from; i < text.size(); ++i) {
      if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '$') {
        ++i;
      } else if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
        ++depth;
        ++i;
      } else if (text[i] == '}' && --depth == 0) {
        return i;
      }
    }
    return std::string_view::npos;
  }

  // An unset variable is reported only where "" replaces it: a default or
  // a `?` form says the author expected it might be missing.
  std::optional<std::string> Value(std::string_view name, bool note_unset = true) {
    std::optional<std::string> value = lookup_(name);
    if (!value && note_unset && unset_) unset_->emplace_back(name);
    return value;
  }

  Result<std::string> Braced(std::string_view body, std::string_view whole) {
    size_t n = 0;
    while (n < body.size() && NameChar(body[n])) ++n;
    if (n == 0 || !NameStart(body[0])) return Invalid(whole);
    std::string_view name = body.substr(0, n), rest = body.substr(n);
    if (rest.empty()) return Value(name).value_or("");
    const bool colon = rest[0] == ':';
    if (colon) rest.remove_prefix(1);
    if (rest.empty()) return Invalid(whole);
    const char op = rest[0];
    std::string_view arg = rest.substr(1);
    std::optional<std::string> value = Value(name, /*note_unset=*/false);
    // With ':' an empty value counts as unset.
    const bool missing = !value || (colon && value->empty());
    switch (op) {
      case '-': return missing ? Run(arg) : Result<std::string>(*value);
      case '+': return missing ? Result<std::string>(std::string()) : Run(arg);
      case '?':
        if (!missing) return *value;
        return Error(ErrorKind::kUsage, "required variable " + std::string(name) +
                                            " is missing a value" +
                                            (arg.empty() ? "" : ": " + std::string(arg)));
      default: return Invalid(whole);
    }
  }

  const VariableLookup& lookup_;
  std::vector<std::string>* unset_;
};

}  // namespace

Result<std::string> Interpolate(std::string_view text, const VariableLookup& lookup,
                                std::vector<std::string>* unset) {
  return Interpolator(lookup, unset).Run(text);
}

VariableLookup ProcessEnvironment() {
  return [](std::string_view name) -> std::optional<std::string> {
    std::string key(name);
    if (const char* value = std::getenv(key.c_str())) return std::string(value);
    return std::nullopt;
  };
}

VariableLookup LayeredLookup(VariableLookup first,
                             std::vector<std::pair<std::string, std::string>> dotenv) {
  return [first = std::move(first),
          dotenv = std::move(dotenv)](std::string_view name) -> std::optional<std::string> {
    if (auto value = first(name)) return value;
    for (auto it = dotenv.rbegin(); it != dotenv.rend(); ++it) {
      if (it->first == name) return it->second;
    }
    return std::nullopt;
  };
}

}  // namespace vk::fleet
