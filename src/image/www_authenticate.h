// WWW-Authenticate (RFC 9110 §11.6.1) as registries send it with a 401:
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io"
// and the token endpoint URL the Docker token protocol asks for.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::image {

struct AuthChallenge {
  std::string scheme;                         // lower-case: "bearer", "basic"
  std::map<std::string, std::string> params;  // lower-case names, values unquoted
  std::string token68;                        // RFC 9110 §11.2 token68 form (then params is empty)
};

// Bounds on what a (possibly hostile) server can make us parse and keep:
// header bytes, challenges per header and auth-params per challenge.
inline constexpr size_t kMaxWwwAuthenticateBytes = 8 * 1024;
inline constexpr size_t kMaxAuthChallenges = 32;
inline constexpr size_t kMaxAuthParams = 64;

// Parses one header value holding one or more comma-separated challenges.
// Rejects anything outside the grammar, duplicate parameter names (which
// realm would we trust?) and input over the limits above.
Result<std::vector<AuthChallenge>> ParseWwwAuthenticate(std::string_view header);

// "<realm>?service=<service>&scope=<scope>" for a Bearer challenge (Docker
// registry token protocol). `scope` empty -> the challenge's own scope param,
// if any. The realm must be an absolute http(s) URL; parameters are
// percent-encoded and appended with '&' when the realm already has a query.
Result<std::string> BearerTokenUrl(const AuthChallenge& challenge, std::string_view scope);

}  // namespace vk::image
