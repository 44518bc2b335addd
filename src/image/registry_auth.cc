// RegistryClient::Authenticate: answers a 401 the way docker does
// (distribution spec "token authentication"): a Bearer challenge sends us to
// the token service with our credentials (or anonymously), a Basic challenge
// takes the credentials directly.
#include <nlohmann/json.hpp>

#include "image/base64.h"
#include "image/registry_client.h"
#include "image/www_authenticate.h"

namespace vk::image {
namespace {

using nlohmann::json;

// A token response is a small JSON object (a token of a few KiB).
constexpr size_t kMaxTokenResponse = 1 << 20;

std::string LoginHint(const Reference& ref) {
  return "run `vk login " + ref.registry + "` (or check the image name)";
}

Result<std::string> TokenFromResponse(const HttpResponse& response) {
  try {
    json j = json::parse(response.body);
    std::string token = j.value("token", "");
    if (token.empty()) token = j.value("access_token", "");
    if (!token.empty()) return token;
  } catch (const json::exception&) {
  }
  return Error("token service answered without a token");
}

}  // namespace

Result<void> RegistryClient::Authenticate(HttpClient& http, const HttpResponse& challenge,
                                          const Call& call) {
  std::string header = challenge.Header("www-authenticate");
  auto challenges = ParseWwwAuthenticate(header);
  if (!challenges.ok() || challenges->empty())
    return Error("401 unauthorized without a usable WWW-Authenticate challenge: " +
                 LoginHint(reference_));
  std::optional<Credentials> credentials = VK_TRY(GetCredentials());
  for (const AuthChallenge& c : *challenges) {
    if (c.scheme == "basic") {
      if (!credentials || credentials->username.empty())
        return Error("401 unauthorized: " + LoginHint(reference_));
      VK_TRY(CheckCredentialTransport(call.url, BaseUrl(), reference_.registry, Insecure()));
      std::lock_guard lock(mutex_);
      authorization_ = "Basic " + Base64Encode(credentials->username + ":" + credentials->password);
      return Ok();
    }
    if (c.scheme != "bearer") continue;
    std::string scope = "repository:" + reference_.repository + ":" + call.actions;
    std::string url = VK_TRY_CTX(BearerTokenUrl(c, scope), "token service");
    HttpRequest request{"GET", url, {"Accept: application/json"}, ""};
    bool send_credentials =
        credentials && (!credentials->identity_token.empty() || !credentials->username.empty());
    if (send_credentials)
      VK_TRY_CTX(CheckCredentialTransport(url, BaseUrl(), reference_.registry, Insecure()),
                 "token service");
    if (credentials && !credentials->identity_token.empty()) {
      // An identity token is an OAuth2 refresh token (docker's login flow).
      request.method = "POST";
      request.url = url.substr(0, url.find('?'));
      request.headers.push_back("Content-Type: application/x-www-form-urlencoded");
      request.body = "grant_type=refresh_token&client_id=virtkit&refresh_token=" +
                     UrlEncode(credentials->identity_token) + "&" + url.substr(url.find('?') + 1);
    } else if (credentials && !credentials->username.empty()) {
      request.headers.push_back("Authorization: Basic " +
                                Base64Encode(credentials->username + ":" + credentials->password));
    }
    HttpResponse response =
        VK_TRY_CTX(Send(http, request, nullptr, kMaxTokenResponse), "token service");
    if (response.status == 401 || response.status == 403)
      return Error("the registry refused our credentials (" + std::to_string(response.status) +
                   "): " + LoginHint(reference_));
    if (response.status != 200)
      return Error("token service " + request.url + " answered HTTP " +
                   std::to_string(response.status));
    std::string token = VK_TRY(TokenFromResponse(response));
    std::lock_guard lock(mutex_);
    authorization_ = "Bearer " + token;
    return Ok();
  }
  return Error("401 unauthorized: no supported authentication scheme in \"" + header + "\"");
}

}  // namespace vk::image
