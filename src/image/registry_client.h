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
#include "image/blob_upload.h"
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
  // A blob of at most `size` bytes into memory, verified against its digest
  // and size (bundle chunks and indexes; blob_fetch.cc).
  Result<std::string> FetchBlobBytes(std::string_view digest, uint64_t size);
  // GET /v2/ with credentials: what `vk login` uses to check them.
  Result<void> CheckLogin();

  // Push (`vk image push`, `vk registry push`; blob_upload.cc). Thread-safe
  // like FetchBlob. UploadBlob sends nothing the registry has (HEAD first),
  // mounts from options.mount_from when the registry allows, streams the
  // bytes (never the whole blob in memory) monolithically or, above
  // options.chunk_size, in PATCH chunks that resume after a dropped
  // connection from the offset the registry reports.
  Result<UploadOutcome> UploadBlob(std::string_view digest, const BlobData& data,
                                   const UploadOptions& options = {});
  Result<void> PushBlob(std::string_view digest, std::string_view bytes);
  // HEAD: whether the repository has the blob.
  Result<bool> HasBlob(std::string_view digest);
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
    const BodySource* upload = nullptr;  // streamed body (replaces `body`)
    // Transient failures retried by Execute; 0: options.attempts. An upload
    // that must not be repeated blindly (a PATCH appends) says 1.
    int attempts = 0;
  };
  // Blob upload steps (blob_upload.cc).
  Result<bool> BlobExists(HttpClient& http, std::string_view digest);
  Result<std::string> StartUpload(HttpClient& http, std::string_view digest,
                                  const UploadOptions& options, bool* mounted);
  Result<void> PutWhole(HttpClient& http, const std::string& location, std::string_view digest,
                        const BlobData& data, const UploadOptions& options);
  Result<void> PutChunked(HttpClient& http, std::string location, std::string_view digest,
                          const BlobData& data, const UploadOptions& options);
  Result<uint64_t> UploadStatus(HttpClient& http, std::string& location, uint64_t acknowledged);
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
