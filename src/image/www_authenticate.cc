#include "image/www_authenticate.h"

#include <fmt/format.h>

#include <cstring>

namespace vk::image {
namespace {

bool IsAlnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// tchar, RFC 9110 §5.6.2.
bool IsTchar(unsigned char c) { return IsAlnum(c) || (c && std::strchr("!#$%&'*+-.^_`|~", c)); }

// token68 characters before the trailing '=' padding, RFC 9110 §11.2.
bool IsToken68Char(unsigned char c) { return IsAlnum(c) || (c && std::strchr("-._~+/", c)); }

// qdtext, RFC 9110 §5.6.4: HTAB, SP, VCHAR except '"' and '\', obs-text.
bool IsQdtext(unsigned char c) {
  return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B) ||
         (c >= 0x5D && c <= 0x7E) || c >= 0x80;
}

// The octet after '\' in a quoted-pair: HTAB, SP, VCHAR, obs-text.
bool IsQuotedPairChar(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7F); }

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// A recursive-descent reader over one header value. Commas separate both
// challenges and their params, so "k=" after a comma decides which it is.
class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Result<std::vector<AuthChallenge>> Run() {
    std::vector<AuthChallenge> out;
    SkipListSeparators();
    if (AtEnd()) return Fail("no challenge");
    while (!AtEnd()) {
      if (out.size() == kMaxAuthChallenges)
        return Fail(fmt::format("more than {} challenges", kMaxAuthChallenges));
      out.push_back(VK_TRY(Challenge()));
      SkipOws();
      if (!AtEnd() && Peek() != ',') return Fail("expected ',' between challenges");
      SkipListSeparators();
    }
    return out;
  }

 private:
  bool AtEnd() const { return pos_ >= s_.size(); }
  unsigned char Peek() const { return static_cast<unsigned char>(s_[pos_]); }
  void SkipOws() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t')) ++pos_;
  }
  // Empty list elements ("a, , b") are legal, RFC 9110 §5.6.1.2.
  void SkipListSeparators() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == ',')) ++pos_;
  }
  Error Fail(std::string_view what) const {
    return Error(fmt::format("parse WWW-Authenticate: {} at offset {}", what, pos_));
  }

  std::string_view Token() {
    size_t start = pos_;
    while (!AtEnd() && IsTchar(Peek())) ++pos_;
    return s_.substr(start, pos_ - start);
  }

  // token BWS "=" ahead: the next list element is an auth-param, not a scheme.
  bool LooksLikeParam() const {
    size_t p = pos_;
    while (p < s_.size() && IsTchar(static_cast<unsigned char>(s_[p]))) ++p;
    if (p == pos_) return false;
    while (p < s_.size() && (s_[p] == ' ' || s_[p] == '\t')) ++p;
    return p < s_.size() && s_[p] == '=';
  }

  // token68 must fill the whole challenge body ("Basic dXNlcjpw==").
  bool TryToken68(AuthChallenge& c) {
    size_t p = pos_;
    while (p < s_.size() && IsToken68Char(static_cast<unsigned char>(s_[p]))) ++p;
    if (p == pos_) return false;
    while (p < s_.size() && s_[p] == '=') ++p;
    size_t end = p;
    while (p < s_.size() && (s_[p] == ' ' || s_[p] == '\t')) ++p;
    if (p < s_.size() && s_[p] != ',') return false;
    c.token68 = std::string(s_.substr(pos_, end - pos_));
    pos_ = end;
    return true;
  }

  Result<std::string> QuotedString() {
    ++pos_;  // opening DQUOTE
    std::string out;
    while (!AtEnd()) {
      unsigned char ch = Peek();
      ++pos_;
      if (ch == '"') return out;
      if (ch == '\\') {
        if (AtEnd() || !IsQuotedPairChar(Peek())) return Fail("bad quoted-pair");
        ch = Peek();
        ++pos_;
      } else if (!IsQdtext(ch)) {
        return Fail("control character in quoted string");
      }
      out += static_cast<char>(ch);
    }
    return Fail("unterminated quoted string");
  }

  Result<void> Param(AuthChallenge& c) {
    if (c.params.size() == kMaxAuthParams)
      return Fail(fmt::format("more than {} parameters", kMaxAuthParams));
    std::string name = Lower(Token());
    SkipOws();
    ++pos_;  // '=', checked by LooksLikeParam
    SkipOws();
    std::string value;
    if (!AtEnd() && Peek() == '"') {
      value = VK_TRY(QuotedString());
    } else {
      value = std::string(Token());
      if (value.empty()) return Fail("expected a token or quoted string");
    }
    if (!c.params.emplace(name, std::move(value)).second)
      return Fail(fmt::format("duplicate parameter {}", name));
    return Ok();
  }

  // Params until the next element is not "k=" (then it starts a challenge).
  Result<void> Params(AuthChallenge& c) {
    for (;;) {
      VK_TRY(Param(c));
      SkipOws();
      size_t mark = pos_;
      if (AtEnd() || Peek() != ',') return Ok();
      SkipListSeparators();
      if (!LooksLikeParam()) {
        pos_ = mark;
        return Ok();
      }
    }
  }

  Result<AuthChallenge> Challenge() {
    AuthChallenge c;
    c.scheme = Lower(Token());
    if (c.scheme.empty()) return Fail("expected an auth scheme");
    if (AtEnd() || Peek() == ',') return c;
    if (Peek() != ' ') return Fail("expected a space after the auth scheme");
    SkipOws();
    if (TryToken68(c)) return c;
    size_t mark = pos_;
    SkipListSeparators();  // "Scheme , k=v": params may follow empty elements
    if (!LooksLikeParam()) {
      pos_ = mark;
      return c;
    }
    VK_TRY(Params(c));
    return c;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// RFC 3986 §2.3: everything but unreserved characters is percent-encoded.
std::string PercentEncode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (IsAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

// The realm comes from the server and we will send credentials to it, so it
// must be a plain absolute http(s) URL: a host, printable ASCII, no fragment.
Result<void> ValidateRealm(std::string_view realm) {
  std::string lower = Lower(realm.substr(0, 8));
  size_t host = lower.starts_with("https://") ? 8 : lower.starts_with("http://") ? 7 : 0;
  if (host == 0) return Error(fmt::format("token realm {:?} is not an http(s) URL", realm));
  if (host == realm.size() || std::strchr("/?#", realm[host]))
    return Error("token realm has no host");
  for (unsigned char c : realm) {
    if (c <= 0x20 || c >= 0x7F || c == '#')
      return Error("token realm has a space, control, non-ASCII or '#' character");
  }
  return Ok();
}

const std::string* FindParam(const AuthChallenge& c, const std::string& name) {
  auto it = c.params.find(name);
  return it == c.params.end() ? nullptr : &it->second;
}

}  // namespace

Result<std::vector<AuthChallenge>> ParseWwwAuthenticate(std::string_view header) {
  if (header.size() > kMaxWwwAuthenticateBytes)
    return Error(
        fmt::format("parse WWW-Authenticate: header over {} bytes", kMaxWwwAuthenticateBytes));
  return Parser(header).Run();
}

Result<std::string> BearerTokenUrl(const AuthChallenge& challenge, std::string_view scope) {
  if (challenge.scheme != "bearer")
    return Error(fmt::format("auth scheme {:?} is not Bearer", challenge.scheme));
  const std::string* realm = FindParam(challenge, "realm");
  if (realm == nullptr) return Error("Bearer challenge has no realm");
  VK_TRY(ValidateRealm(*realm));
  std::string url = *realm;
  char separator = url.find('?') == std::string::npos ? '?' : '&';
  auto append = [&](std::string_view name, std::string_view value) {
    if (value.empty()) return;
    url += separator;
    url += name;
    url += '=';
    url += PercentEncode(value);
    separator = '&';
  };
  if (const std::string* service = FindParam(challenge, "service")) append("service", *service);
  if (scope.empty()) {
    if (const std::string* own = FindParam(challenge, "scope")) scope = *own;
  }
  append("scope", scope);
  return url;
}

}  // namespace vk::image
