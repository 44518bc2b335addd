#include "image/registry_client.h"

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/strings.h"
#include "image/manifest.h"
#include "image/www_authenticate.h"

namespace vk::image {
namespace {

using nlohmann::json;

constexpr int kMaxRedirects = 10;

bool IsRetryableStatus(long status) { return status == 429 || status >= 500; }

}  // namespace

bool IsInsecureRegistry(std::string_view registry) {
  const char* list = std::getenv("VIRTKIT_INSECURE_REGISTRIES");
  if (list == nullptr) return false;
  for (const std::string& item : Split(list, ','))
    if (item == registry) return true;
  return false;
}

Result<void> CheckCredentialTransport(std::string_view url, std::string_view registry_url,
                                      std::string_view registry, bool insecure) {
  std::string scheme = UrlScheme(url);
  if (scheme == "https") return Ok();
  std::string what = "refusing to send credentials for " + std::string(registry) + " to " +
                     std::string(url) + " over plain " + scheme;
  if (scheme != "http") return Error(what);
  if (!insecure)
    return Error(what + ": the registry must use https for its token service, or, if it is a " +
                 "test registry without TLS, mark it insecure (--insecure or " +
                 "VIRTKIT_INSECURE_REGISTRIES=" + std::string(registry) + ")");
  if (UrlHost(url) != UrlHost(registry_url))
    return Error(what + ": an insecure registry's credentials only go to its own host (" +
                 UrlHost(registry_url) + "); serve the token service over https");
  return Ok();
}

RegistryClient::RegistryClient(Reference reference, RegistryOptions options)
    : reference_(std::move(reference)), options_(std::move(options)) {
  if (options_.credentials) {
    credentials_ = options_.credentials;
    credentials_loaded_ = true;
  }
}

RegistryClient::~RegistryClient() = default;

bool RegistryClient::Insecure() const {
  return options_.insecure || IsInsecureRegistry(reference_.registry);
}

std::string RegistryClient::BaseUrl() const {
  return (Insecure() ? "http://" : "https://") + reference_.ApiHost() + "/v2/";
}

Result<std::optional<Credentials>> RegistryClient::GetCredentials() {
  std::lock_guard lock(mutex_);
  if (!credentials_loaded_) {
    credentials_ = VK_TRY_CTX(LookupCredentials(reference_.registry),
                              "credentials for " + reference_.registry);
    credentials_loaded_ = true;
  }
  return credentials_;
}

std::string RegistryClient::AuthorizationHeader() {
  std::lock_guard lock(mutex_);
  return authorization_;
}

namespace {

Error WithTlsHint(Error error, std::string_view authority) {
  std::vector<std::string> dirs = CertsDirsFor(authority);
  std::string where = dirs.empty() ? std::string(kCertsDirsVariable) : dirs.front();
  for (size_t i = 1; i < dirs.size(); ++i)
    where += (i + 1 == dirs.size() ? " or " : ", ") + dirs[i];
  if (error.errno_value() == kUntrustedCertificateErrno)
    return Error(error.message() + ": if " + std::string(authority) +
                 " uses a private CA, put the CA certificate as ca.crt in " + where);
  if (error.errno_value() == kClientCertificateErrno)
    return Error(error.message() + ": put the client certificate and key as client.cert and " +
                 "client.key in " + where);
  return error;
}

}  // namespace

Result<HttpResponse> RegistryClient::Send(HttpClient& http, HttpRequest request,
                                          const BodySink* sink, size_t max_body) {
  if (UrlScheme(request.url) == "https") {
    std::string authority = UrlAuthority(request.url);
    std::unique_lock lock(mutex_);
    auto it = tls_.find(authority);
    if (it == tls_.end()) {
      TlsSettings settings = VK_TRY_CTX(LoadTlsSettings(authority), "TLS for " + authority);
      it = tls_.emplace(authority, std::move(settings)).first;
    }
    request.tls = &it->second;  // map nodes stay put; entries are never replaced
  }
  auto response = http.Send(request, sink, max_body);
  if (!response.ok()) return WithTlsHint(std::move(response).error(), UrlAuthority(request.url));
  return response;
}

Result<HttpResponse> RegistryClient::Execute(HttpClient& http, const Call& call) {
  VK_TRY(LoadCurl());  // before the Url* helpers, which call curl too
  int backoff_ms = options_.initial_backoff_ms;
  int attempts = call.attempts > 0 ? call.attempts : options_.attempts;
  for (int attempt = 1;; ++attempt) {
    auto response = ExecuteOnce(http, call);
    bool transient = response.ok() ? IsRetryableStatus(response->status)
                                   : response.error().errno_value() == kTransientErrno;
    if (!transient || attempt >= attempts) return response;
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms *= 2;
  }
}

Result<HttpResponse> RegistryClient::ExecuteOnce(HttpClient& http, const Call& call) {
  std::string url = call.url;
  const std::string registry_origin = UrlScheme(BaseUrl()) + "://" + UrlAuthority(BaseUrl());
  bool authenticated = false;
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    // Credentials go only to the registry itself (same scheme, host and
    // port), never to a redirect target on another host (blob storage,
    // CDNs) nor to a downgrade from https to http on the same host:port.
    bool to_registry = UrlScheme(url) + "://" + UrlAuthority(url) == registry_origin;
    HttpRequest request{call.method, url,
                        call.headers ? call.headers() : std::vector<std::string>{}, call.body};
    request.upload = call.upload;
    std::string authorization = AuthorizationHeader();
    if (to_registry && !authorization.empty())
      request.headers.push_back("Authorization: " + authorization);
    HttpResponse response = VK_TRY(Send(http, std::move(request), call.sink, call.max_body));
    if (response.status == 401 && to_registry && !authenticated) {
      VK_TRY(Authenticate(http, response, call));
      authenticated = true;
      continue;
    }
    bool redirect =
        response.status >= 300 && response.status < 400 && !response.Header("location").empty();
    if (!redirect) return response;
    url = VK_TRY(ResolveUrl(url, response.Header("location")));
  }
  return Error(call.method + " " + call.url + ": more than " + std::to_string(kMaxRedirects) +
               " redirects");
}

}  // namespace vk::image
