// Reference grammar and normalisation follow docker/distribution's
// `reference` package (reference.go grammar, normalize.go
// splitDockerDomain), so that a name means the same image here as it does
// to `docker pull`.
#include "image/reference.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace vk::image {
namespace {

constexpr std::string_view kDefaultDomain = "docker.io";
constexpr std::string_view kLegacyDefaultDomain = "index.docker.io";
constexpr std::string_view kDockerApiHost = "registry-1.docker.io";
constexpr std::string_view kOfficialRepoPrefix = "library/";
constexpr std::string_view kDefaultTag = "latest";
// docker's NameTotalLengthMax: registries reject longer names anyway.
constexpr size_t kMaxNameLength = 255;
constexpr size_t kMaxTagLength = 128;

Error Invalid(std::string_view text, std::string_view why) {
  std::string message = "invalid image reference \"";
  message += text;
  message += "\": ";
  message += why;
  return Error(std::move(message));
}

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWordChar(char c) { return IsAlnum(c) || c == '_'; }

// The length of the separator at `s[i]`: '.', '_', '__' or one or more '-'
// (docker's `separator`); 0 when there is none.
size_t SeparatorLength(std::string_view s, size_t i) {
  if (s[i] == '.') return 1;
  if (s[i] == '_') return (i + 1 < s.size() && s[i + 1] == '_') ? 2 : 1;
  size_t n = 0;
  while (i + n < s.size() && s[i + n] == '-') ++n;
  return n;
}

// alpha-numeric [separator alpha-numeric]*
bool IsValidPathComponent(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (!IsLowerAlnum(s[i])) return false;
    while (i < s.size() && IsLowerAlnum(s[i])) ++i;
    if (i == s.size()) return true;
    size_t sep = SeparatorLength(s, i);
    if (sep == 0) return false;
    i += sep;
    if (i == s.size()) return false;  // a separator must be followed by alnum
  }
  return false;  // empty
}

// [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool IsValidDomainComponent(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return IsAlnum(c) || c == '-'; });
}

bool IsValidHost(std::string_view host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {  // IPv6 literal
    std::string_view inner = host.substr(1, host.size() - 2);
    return std::all_of(inner.begin(), inner.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) || c == ':';
    });
  }
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    if (!IsValidDomainComponent(host.substr(start, dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// host [':' port-number]
bool IsValidDomain(std::string_view domain) {
  size_t colon = domain.rfind(':');
  if (colon != std::string_view::npos && domain.find(']', colon) == std::string_view::npos) {
    std::string_view port = domain.substr(colon + 1);
    if (port.empty() || !std::all_of(port.begin(), port.end(), IsDigit)) return false;
    domain = domain.substr(0, colon);
  }
  return IsValidHost(domain);
}

// [\w][\w.-]{0,127}
bool IsValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > kMaxTagLength || !IsWordChar(tag[0])) return false;
  return std::all_of(tag.begin(), tag.end(),
                     [](char c) { return IsWordChar(c) || c == '.' || c == '-'; });
}

bool IsLowerHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }

// docker's splitDockerDomain: the first component names a registry only if
// it looks like a host (has '.' or ':') or is "localhost"; otherwise the
// whole text is a Docker Hub path.
void SplitDomain(std::string_view text, Reference& ref, std::string_view& remainder) {
  size_t slash = text.find('/');
  std::string_view first = text.substr(0, slash);
  bool is_domain = slash != std::string_view::npos &&
                   (first.find_first_of(".:") != std::string_view::npos || first == "localhost");
  ref.registry = is_domain ? std::string(first) : std::string(kDefaultDomain);
  remainder = is_domain ? text.substr(slash + 1) : text;
  if (ref.registry == kLegacyDefaultDomain) ref.registry = kDefaultDomain;
}

Result<void> ValidatePath(std::string_view text, std::string_view path) {
  if (path.empty()) return Invalid(text, "repository name is empty");
  std::string lower(path);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (lower != path) return Invalid(text, "repository names must be lower case");
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    std::string_view component = path.substr(start, slash - start);
    if (component.empty()) return Invalid(text, "repository name has an empty path component");
    if (!IsValidPathComponent(component)) {
      return Invalid(text,
                     "repository path components may contain only a-z, 0-9 and single "
                     "'.', '_' or '__', or runs of '-', between alphanumerics");
    }
    if (slash == std::string_view::npos) return Ok();
    start = slash + 1;
  }
}

// Splits "path[:tag][@digest]" into the reference's fields.
Result<void> ParseRemainder(std::string_view text, std::string_view remainder, Reference& ref) {
  size_t at = remainder.find('@');
  if (at != std::string_view::npos) {
    ref.digest = std::string(remainder.substr(at + 1));
    if (!IsValidDigest(ref.digest)) {
      return Invalid(text, "digest must be sha256: followed by 64 lower-case hex digits");
    }
    remainder = remainder.substr(0, at);
  }
  size_t colon = remainder.find(':');
  if (colon != std::string_view::npos) {
    ref.tag = std::string(remainder.substr(colon + 1));
    if (!IsValidTag(ref.tag)) {
      return Invalid(text,
                     "tag must be 1-128 characters of A-Z, a-z, 0-9, '_', '.' or '-', "
                     "not starting with '.' or '-'");
    }
    remainder = remainder.substr(0, colon);
  }
  ref.repository = std::string(remainder);
  return ValidatePath(text, remainder);
}

std::string LocalPrefix(SourceKind kind) {
  switch (kind) {
    case SourceKind::kOciLayout: return "oci:";
    case SourceKind::kOciArchive: return "oci-archive:";
    case SourceKind::kDockerArchive: return "docker-archive:";
    case SourceKind::kRegistry: break;
  }
  return "";
}

// "PATH[:TAG]": for OCI sources the tag follows the last ':' unless what
// follows it holds a '/', so a directory like "/mnt/c:d/layout" stays whole.
// A docker-archive's REF is itself a reference ("app:1", "ghcr.io/o/r:v1"),
// so there the first ':' splits, as skopeo does.
Result<ImageSource> ParseLocal(std::string_view text, SourceKind kind, std::string_view rest) {
  ImageSource source;
  source.kind = kind;
  bool docker = kind == SourceKind::kDockerArchive;
  size_t colon = docker ? rest.find(':') : rest.rfind(':');
  if (colon != std::string_view::npos &&
      (docker || rest.find('/', colon) == std::string_view::npos)) {
    source.tag = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
    if (source.tag.empty()) return Invalid(text, "empty tag after ':'");
  }
  if (rest.empty()) return Invalid(text, "missing path after \"" + LocalPrefix(kind) + "\"");
  source.path = std::string(rest);
  return source;
}

}  // namespace

bool IsValidDigest(std::string_view digest) {
  constexpr std::string_view kPrefix = "sha256:";
  if (digest.size() != kPrefix.size() + 64 || digest.substr(0, kPrefix.size()) != kPrefix) {
    return false;
  }
  std::string_view hex = digest.substr(kPrefix.size());
  return std::all_of(hex.begin(), hex.end(), IsLowerHex);
}

Result<Reference> ParseReference(std::string_view text) {
  if (text.empty()) return Invalid(text, "reference is empty");
  // docker refuses bare 64-hex names: they would read as image IDs.
  if (text.size() == 64 && std::all_of(text.begin(), text.end(), IsLowerHex)) {
    return Invalid(text, "a 64-character hex string is an image ID, not a repository name");
  }
  Reference ref;
  std::string_view remainder;
  SplitDomain(text, ref, remainder);
  if (!IsValidDomain(ref.registry)) return Invalid(text, "registry host is not valid");
  VK_TRY(ParseRemainder(text, remainder, ref));
  if (ref.registry == kDefaultDomain && ref.repository.find('/') == std::string::npos) {
    ref.repository.insert(0, kOfficialRepoPrefix);
  }
  if (ref.registry.size() + 1 + ref.repository.size() > kMaxNameLength) {
    return Invalid(text, "repository name is longer than 255 characters");
  }
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = kDefaultTag;
  return ref;
}

Result<ImageSource> ParseImageSource(std::string_view text) {
  for (SourceKind kind :
       {SourceKind::kOciLayout, SourceKind::kOciArchive, SourceKind::kDockerArchive}) {
    std::string prefix = LocalPrefix(kind);
    if (text.substr(0, prefix.size()) == prefix) {
      return ParseLocal(text, kind, text.substr(prefix.size()));
    }
  }
  ImageSource source;
  source.reference = VK_TRY(ParseReference(text));
  return source;
}

std::string Reference::ApiHost() const {
  return registry == kDefaultDomain ? std::string(kDockerApiHost) : registry;
}

std::string Reference::Canonical() const {
  std::string out = registry + "/" + repository;
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string Reference::ManifestReference() const { return digest.empty() ? tag : digest; }

// docker's familiarizeName: Docker Hub names drop the registry, and
// official images drop "library/" too.
std::string Reference::Familiar() const {
  std::string out;
  if (registry != kDefaultDomain) {
    out = registry + "/" + repository;
  } else {
    std::string_view path = repository;
    if (path.substr(0, kOfficialRepoPrefix.size()) == kOfficialRepoPrefix &&
        path.find('/', kOfficialRepoPrefix.size()) == std::string_view::npos) {
      path.remove_prefix(kOfficialRepoPrefix.size());
    }
    out = std::string(path);
  }
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string ImageSource::Display() const {
  if (kind == SourceKind::kRegistry) return reference.Familiar();
  std::string out = LocalPrefix(kind) + path;
  if (!tag.empty()) out += ":" + tag;
  return out;
}

}  // namespace vk::image
