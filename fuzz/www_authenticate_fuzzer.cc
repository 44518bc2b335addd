// Fuzzes WWW-Authenticate parsing (a registry's 401 response header) and the
// token URL built from each challenge. Must never crash; limits must hold and
// every URL built must be an http(s) URL of printable ASCII without '#'.
#include <strings.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "image/www_authenticate.h"

namespace {

bool IsHttpUrl(const std::string& url) {
  return strncasecmp(url.c_str(), "http://", 7) == 0 ||
         strncasecmp(url.c_str(), "https://", 8) == 0;
}

void CheckTokenUrls(const vk::image::AuthChallenge& challenge, std::string_view header) {
  for (std::string_view scope : {std::string_view(), header.substr(0, 64)}) {
    auto url = vk::image::BearerTokenUrl(challenge, scope);
    if (!url.ok()) continue;
    if (!IsHttpUrl(*url)) std::abort();
    for (unsigned char c : *url)
      if (c <= 0x20 || c >= 0x7F || c == '#') std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view header(reinterpret_cast<const char*>(data), size);
  auto challenges = vk::image::ParseWwwAuthenticate(header);
  if (!challenges.ok()) return 0;
  if (challenges->empty() || challenges->size() > vk::image::kMaxAuthChallenges) std::abort();
  for (const vk::image::AuthChallenge& challenge : *challenges) {
    if (challenge.scheme.empty() || challenge.params.size() > vk::image::kMaxAuthParams)
      std::abort();
    CheckTokenUrls(challenge, header);
  }
  return 0;
}
