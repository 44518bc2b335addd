// RegistryClient: the pull (and push) side of the OCI distribution spec for
// one repository: bearer-token and basic auth from the docker config,
// redirects that never carry credentials to another host, retries with
// backoff, resumable blob downloads, every byte verified by digest.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "image/docker_config.h"
#include "image/http_client.h"
#include "image/reference.h"
#include "image/store.h"

namespace vk::image {

struct RegistryOptions {
  bool insecure = false;  // plain http (also: VIRTKIT_INSECURE_REGISTRIES)
  // Credentials to use; when unset they are looked up in the docker config.
  std::optional<Credentials> credentials;
  int attempts = 5;              // per request, for transient failures
  int initial_backoff_ms = 250;  // doubled after each failed attempt
};

struct FetchedManifest {
  std::string body;
  std::string content_type;
  std::string digest;  // sha256 of body, checked against what was asked for
};

// Called with (bytes so far, total) as a blob arrives.
using ProgressFn = std::function<void(uint64_t done, uint64_t total)>;

class RegistryClient {
 public:
  RegistryClient(Reference reference, RegistryOptions options);
  ~RegistryClient();

  // tag or digest; Accept covers OCI and Docker schema 2 manifests/indexes.
  Result<FetchedManifest> FetchManifest(std::string_view tag_or_digest);
  // Downloads a blob into the store (resuming a partial one); thread-safe:
  // each call uses its own connection. No-op when the blob is present.
  Result<void> FetchBlob(Store& store, std::string_view digest, uint64_t size,
                         const ProgressFn& progress = {});
  // GET /v2/ with credentials: what `vk login` uses to check them.
  Result<void> CheckLogin();

  // Push (used by `vk push` and to seed registries in tests).
  Result<void> PushBlob(std::string_view digest, std::string_view bytes);
  Result<void> PushManifest(std::string_view tag_or_digest, std::string_view media_type,
                            std::string_view body);

  const Reference& reference() const { return reference_; }
  std::string BaseUrl() const;
  // Plain http, by option or VIRTKIT_INSECURE_REGISTRIES.
  bool Insecure() const;

 private:
  // One registry request; `headers` is re-evaluated for every attempt (a
  // resumed download asks for a new Range).
  struct Call {
    std::string method = "GET";
    std::string url;
    std::string actions = "pull";  // token scope: "pull" or "pull,push"
    std::function<std::vector<std::string>()> headers;
    std::string body;
    const BodySink* sink = nullptr;
    size_t max_body = 4 << 20;
  };
  Result<void> DownloadBlob(PartialBlob& partial, std::string_view digest,
                            const ProgressFn& progress);
  Result<HttpResponse> Execute(HttpClient& http, const Call& call);
  Result<HttpResponse> ExecuteOnce(HttpClient& http, const Call& call);
  Result<void> Authenticate(HttpClient& http, const HttpResponse& challenge, const Call& call);
  Result<std::optional<Credentials>> GetCredentials();
  std::string AuthorizationHeader();
  // Sends one request with the certs.d settings of its host.
  Result<HttpResponse> Send(HttpClient& http, HttpRequest request, const BodySink* sink,
                            size_t max_body);

  Reference reference_;
  RegistryOptions options_;
  std::mutex mutex_;           // guards the fields below
  std::string authorization_;  // "Bearer ..." / "Basic ..." once known
  bool credentials_loaded_ = false;
  std::optional<Credentials> credentials_;
  std::map<std::string, TlsSettings> tls_;  // by authority, read once
};

// True when `registry` is listed in VIRTKIT_INSECURE_REGISTRIES (comma list).
bool IsInsecureRegistry(std::string_view registry);

// Whether credentials for `registry` (API root `registry_url`) may travel to
// `url`: over https to wherever the registry sends us (its token service);
// over plain http, where anyone on the path reads them, only when the
// registry is explicitly insecure and only to the registry's own host.
Result<void> CheckCredentialTransport(std::string_view url, std::string_view registry_url,
                                      std::string_view registry, bool insecure);

}  // namespace vk::image
