// RegistryClient's endpoints (distribution spec "pull" and "push").
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "image/manifest.h"
#include "image/registry_client.h"

namespace vk::image {
namespace {

using nlohmann::json;

std::string Sha256Digest(std::string_view bytes) {
  Sha256 sha;
  sha.Update(bytes);
  return "sha256:" + DigestHex(sha.Final());
}

// The registry's own explanation: {"errors":[{"code":..,"message":..}]}.
std::string RegistryErrorText(const HttpResponse& response) {
  try {
    json j = json::parse(response.body);
    const json& first = j.at("errors").at(0);
    std::string text = first.value("code", "");
    std::string message = first.value("message", "");
    if (!message.empty()) text += (text.empty() ? "" : ": ") + message;
    if (!text.empty()) return text + " (HTTP " + std::to_string(response.status) + ")";
  } catch (const json::exception&) {
  }
  return "HTTP " + std::to_string(response.status);
}

Error StatusError(const HttpResponse& response, const Reference& ref, std::string_view what) {
  std::string text = std::string(what) + ": " + RegistryErrorText(response);
  if (response.status == 401 || response.status == 403)
    text += ": run `vk login " + ref.registry + "` if the repository is private";
  return Error(text);
}

std::vector<std::string> AcceptManifests() {
  return {"Accept: " + std::string(kOciIndex) + ", " + std::string(kOciManifest) + ", " +
          std::string(kDockerManifestList) + ", " + std::string(kDockerManifest)};
}

// "bytes 100-199/200" -> 100.
std::optional<uint64_t> ContentRangeStart(std::string_view header) {
  size_t space = header.find(' ');
  size_t dash = header.find('-');
  if (space == std::string_view::npos || dash == std::string_view::npos || dash < space)
    return std::nullopt;
  std::string start(header.substr(space + 1, dash - space - 1));
  if (start.empty() || start.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return std::stoull(start);
}

}  // namespace

Result<FetchedManifest> RegistryClient::FetchManifest(std::string_view tag_or_digest) {
  HttpClient http;
  Call call;
  call.url = BaseUrl() + reference_.repository + "/manifests/" + std::string(tag_or_digest);
  call.headers = [] { return AcceptManifests(); };
  call.max_body = kMaxManifestBytes;
  std::string what = "manifest " + reference_.repository + ":" + std::string(tag_or_digest);
  HttpResponse response = VK_TRY_CTX(Execute(http, call), what);
  if (response.status == 404)
    return Error(what + " not found in " + reference_.registry + ": check the name and tag");
  if (response.status != 200) return StatusError(response, reference_, what);
  FetchedManifest manifest{std::move(response.body), response.Header("content-type"), {}};
  manifest.digest = Sha256Digest(manifest.body);
  bool by_digest = tag_or_digest.rfind("sha256:", 0) == 0;
  std::string claimed = response.Header("docker-content-digest");
  if (by_digest && manifest.digest != tag_or_digest)
    return Error(what + ": content has digest " + manifest.digest + ", not the one asked for");
  if (!claimed.empty() && claimed.rfind("sha256:", 0) == 0 && claimed != manifest.digest)
    return Error(what + ": registry claims digest " + claimed + " but the content is " +
                 manifest.digest);
  return manifest;
}

namespace {

// A body longer than the blob is refused from its headers on, before a byte
// is written (PartialBlob::Append enforces it again per chunk).
Result<void> CheckAnnouncedLength(const HttpResponse& head, const PartialBlob& partial) {
  auto length = ParseUint(head.Header("content-length"));
  uint64_t left = partial.expected_size() - (head.status == 206 ? partial.size() : 0);
  if (length && *length > left)
    return Error("the registry announces " + std::to_string(*length) + " bytes, the descriptor " +
                 std::to_string(partial.expected_size()));
  return Ok();
}

}  // namespace

Result<void> RegistryClient::FetchBlob(Store& store, std::string_view digest, uint64_t size,
                                       const ProgressFn& progress) {
  std::string what = "blob " + std::string(digest);
  // Size 0 would bound nothing: only the empty blob may declare it.
  if (size == 0 && digest != kEmptyBlobDigest)
    return Error(what + ": its descriptor says size 0; refusing an unbounded download");
  FileLock lock = VK_TRY(store.LockBlob(digest));  // another vk may be fetching it
  if (store.HasBlob(digest)) {
    if (progress) progress(size, size);
    return Ok();
  }
  if (size == 0) return store.PutBlob(digest, "");
  PartialBlob partial = VK_TRY(store.OpenPartial(digest, size));
  if (partial.size() == size) {  // an earlier run got every byte
    if (partial.Commit().ok()) return Ok();
    partial = VK_TRY(store.OpenPartial(digest, size));  // they were wrong: start over
  }
  bool resumed = partial.size() > 0;
  Result<void> fetched = DownloadBlob(partial, digest, progress);
  if (fetched.ok()) {
    if (auto committed = partial.Commit(); !committed.ok()) fetched = std::move(committed).error();
  }
  if (fetched.ok() || !resumed) return std::move(fetched).Context(what);
  // The bytes kept from an earlier attempt may have been the bad ones.
  partial = VK_TRY(store.OpenPartial(digest, size));
  VK_TRY(partial.Restart());
  VK_TRY_CTX(DownloadBlob(partial, digest, progress), what);
  VK_TRY_CTX(partial.Commit(), what);
  return Ok();
}

Result<void> RegistryClient::DownloadBlob(PartialBlob& partial, std::string_view digest,
                                          const ProgressFn& progress) {
  HttpClient http;
  Call call;
  call.url = BaseUrl() + reference_.repository + "/blobs/" + std::string(digest);
  call.headers = [&partial] {
    std::vector<std::string> headers;
    if (partial.size() > 0)
      headers.push_back("Range: bytes=" + std::to_string(partial.size()) + "-");
    return headers;
  };
  BodySink sink;
  sink.on_headers = [&partial](const HttpResponse& head) -> Result<void> {
    if (head.status != 206 || ContentRangeStart(head.Header("content-range")) != partial.size())
      VK_TRY(partial.Restart());  // a full body (200) or a range we did not ask for
    return CheckAnnouncedLength(head, partial);
  };
  sink.on_body = [&](const char* data, size_t length) -> Result<void> {
    VK_TRY(partial.Append(data, length));
    if (progress) progress(partial.size(), partial.expected_size());
    return Ok();
  };
  call.sink = &sink;
  HttpResponse response = VK_TRY(Execute(http, call));
  if (response.status == 416 && partial.size() > 0) {  // our partial outgrew the blob
    VK_TRY(partial.Restart());
    response = VK_TRY(Execute(http, call));
  }
  if (response.status != 200 && response.status != 206)
    return StatusError(response, reference_, "blob " + std::string(digest));
  return Ok();
}

Result<void> RegistryClient::CheckLogin() {
  HttpClient http;
  Call call;
  call.url = BaseUrl();
  HttpResponse response = VK_TRY_CTX(Execute(http, call), "login to " + reference_.registry);
  if (response.status != 200)
    return StatusError(response, reference_, "login to " + reference_.registry);
  return Ok();
}

}  // namespace vk::image
