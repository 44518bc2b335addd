// RegistryClient::UploadBlob (distribution spec "pushing blobs"): HEAD
// first, then a cross-repository mount, then the bytes, streamed from their
// file: one PUT for a small blob, PATCH chunks then a closing PUT for a
// large one. A chunk whose connection drops is not sent again blindly (a
// registry appends whatever a PATCH carried): we ask the upload's status and
// go on from the offset the registry reports.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "base/strings.h"
#include "image/registry_client.h"

namespace vk::image {
namespace {

std::string WithQuery(const std::string& url, std::string_view query) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + std::string(query);
}

bool IsTransient(const Result<HttpResponse>& response) {
  if (!response.ok()) return response.error().errno_value() == kTransientErrno;
  return response->status == 429 || response->status >= 500;
}

// The body of one request: `length` bytes of `data` from `start`, counted
// and reported as they are handed to curl.
struct CountedBody {
  BodySource source;
  CountedBody(const BlobData& data, uint64_t start, uint64_t length, const UploadOptions& options) {
    source.length = length;
    source.read = [&data, start, &options](uint64_t at, char* buffer,
                                           size_t size) -> Result<size_t> {
      size_t got = VK_TRY(data.Read(start + at, buffer, size));
      if (options.bytes_sent != nullptr) *options.bytes_sent += got;
      if (options.progress) options.progress(start + at + got, data.length);
      return got;
    };
  }
};

// Marks an error worth a new upload session (UploadBlob starts over).
Error StartOver(Error error) { return Error(error.message(), kTransientErrno); }

}  // namespace

Result<size_t> BlobData::Read(uint64_t at, char* buffer, size_t size) const {
  if (at >= length) return size_t{0};
  size = static_cast<size_t>(std::min<uint64_t>(size, length - at));
  if (fd < 0) {
    std::memcpy(buffer, bytes.data() + at, size);
    return size;
  }
  for (;;) {
    ssize_t n = ::pread(fd, buffer, size, static_cast<off_t>(offset + at));
    if (n > 0) return static_cast<size_t>(n);
    if (n == 0) return Error("blob source ended at byte " + std::to_string(offset + at));
    if (errno != EINTR) return Error::FromErrno("read blob source");
  }
}

Result<void> RunTransfers(size_t count, int parallel,
                          const std::function<Result<void>(size_t)>& task) {
  std::atomic<size_t> next{0};
  std::mutex mutex;
  std::optional<Error> first_error;
  auto worker = [&] {
    for (size_t i = next++; i < count; i = next++) {
      auto result = task(i);
      if (result.ok()) continue;
      std::lock_guard lock(mutex);
      if (!first_error) first_error = std::move(result).error();
      next = count;  // stop handing out work
    }
  };
  size_t threads = std::min<size_t>(static_cast<size_t>(std::max(1, parallel)), count);
  std::vector<std::thread> pool;
  for (size_t i = 0; i < threads; ++i) pool.emplace_back(worker);
  for (std::thread& t : pool) t.join();
  if (first_error) return std::move(*first_error);
  return Ok();
}

std::optional<uint64_t> ParseUploadRange(std::string_view header, uint64_t acknowledged) {
  size_t dash = header.find('-');
  if (dash == std::string_view::npos || header.substr(0, dash) != "0") return std::nullopt;
  auto end = ParseUint(header.substr(dash + 1));
  // Network input: an end of UINT64_MAX would wrap the count to 0.
  if (!end || *end == UINT64_MAX) return std::nullopt;
  if (*end == 0 && acknowledged == 0) return uint64_t{0};
  return *end + 1;
}

Result<bool> RegistryClient::HasBlob(std::string_view digest) {
  HttpClient http;
  return BlobExists(http, digest);
}

Result<bool> RegistryClient::BlobExists(HttpClient& http, std::string_view digest) {
  Call head;
  head.method = "HEAD";
  head.actions = "pull,push";
  head.url = BaseUrl() + reference_.repository + "/blobs/" + std::string(digest);
  HttpResponse response = VK_TRY(Execute(http, head));
  if (response.status == 200) return true;
  if (response.status == 404) return false;
  return PushStatusError(response, reference_, "HEAD blob " + std::string(digest));
}

Result<std::string> RegistryClient::StartUpload(HttpClient& http, std::string_view digest,
                                                const UploadOptions& options, bool* mounted) {
  Call start;
  start.method = "POST";
  start.actions = "pull,push";
  start.url = BaseUrl() + reference_.repository + "/blobs/uploads/";
  bool mount = !options.mount_from.empty() && options.mount_from != reference_.repository;
  if (mount)
    start.url = WithQuery(start.url,
                          "mount=" + UrlEncode(digest) + "&from=" + UrlEncode(options.mount_from));
  HttpResponse session = VK_TRY_CTX(Execute(http, start), "start upload");
  *mounted = mount && session.status == 201;
  if (*mounted) return std::string();
  // 202 is also a registry's answer to a mount it cannot do: upload instead.
  if (session.status != 202 || session.Header("location").empty())
    return PushStatusError(session, reference_, "start upload");
  return ResolveUrl(start.url, session.Header("location"));
}

Result<void> RegistryClient::PutWhole(HttpClient& http, const std::string& location,
                                      std::string_view digest, const BlobData& data,
                                      const UploadOptions& options) {
  CountedBody body(data, 0, data.length, options);
  Call put;
  put.method = "PUT";
  put.actions = "pull,push";
  put.url = WithQuery(location, "digest=" + UrlEncode(digest));
  put.headers = [] { return std::vector<std::string>{"Content-Type: application/octet-stream"}; };
  put.upload = &body.source;
  put.attempts = 1;  // the session may hold part of this body now: the caller starts over
  HttpResponse done = VK_TRY(Execute(http, put));
  if (done.status == 201) return Ok();
  Error error = PushStatusError(done, reference_, "PUT blob");
  return done.status == 429 || done.status >= 500 ? StartOver(std::move(error)) : error;
}

Result<uint64_t> RegistryClient::UploadStatus(HttpClient& http, std::string& location,
                                              uint64_t acknowledged) {
  Call status;
  status.actions = "pull,push";
  status.url = location;
  HttpResponse response = VK_TRY_CTX(Execute(http, status), "upload status");
  if (response.status != 204 && response.status != 200)
    return PushStatusError(response, reference_, "upload status");
  if (!response.Header("location").empty())
    location = VK_TRY(ResolveUrl(location, response.Header("location")));
  auto held = ParseUploadRange(response.Header("range"), acknowledged);
  if (!held) return Error("upload status: unusable Range \"" + response.Header("range") + "\"");
  return *held;
}

Result<void> RegistryClient::PutChunked(HttpClient& http, std::string location,
                                        std::string_view digest, const BlobData& data,
                                        const UploadOptions& options) {
  uint64_t offset = 0;
  int failures = 0;
  int backoff_ms = options_.initial_backoff_ms;
  while (offset < data.length) {
    uint64_t length = std::min(options.chunk_size, data.length - offset);
    CountedBody body(data, offset, length, options);
    Call patch;
    patch.method = "PATCH";
    patch.actions = "pull,push";
    patch.url = location;
    std::string range =
        "Content-Range: " + std::to_string(offset) + "-" + std::to_string(offset + length - 1);
    patch.headers = [range] {
      return std::vector<std::string>{"Content-Type: application/octet-stream", range};
    };
    patch.upload = &body.source;
    patch.attempts = 1;
    auto response = Execute(http, patch);
    if (response.ok() && response->status == 202) {
      if (!response->Header("location").empty())
        location = VK_TRY(ResolveUrl(location, response->Header("location")));
      offset += length;
      continue;
    }
    if (!IsTransient(response) || ++failures >= options_.attempts) {
      if (!response.ok()) return std::move(response).error().WithContext("PATCH blob chunk");
      Error error = PushStatusError(*response, reference_, "PATCH blob chunk");
      return IsTransient(response) ? StartOver(std::move(error)) : error;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff_ms));
    backoff_ms *= 2;
    // The registry kept some prefix of what was sent: continue after it.
    // A registry that dropped the session instead (docker-registry 2.8
    // cancels an upload whose PATCH broke off) makes us start over.
    auto held = UploadStatus(http, location, offset);
    if (!held.ok()) return StartOver(std::move(held).error());
    offset = *held;
    if (offset > data.length) return Error("the registry holds more bytes than the blob has");
  }
  Call put;
  put.method = "PUT";
  put.actions = "pull,push";
  put.url = WithQuery(location, "digest=" + UrlEncode(digest));
  HttpResponse done = VK_TRY_CTX(Execute(http, put), "close upload");
  if (done.status == 201) return Ok();
  Error error = PushStatusError(done, reference_, "close upload");
  // After a resume, a digest the registry refuses means the bytes it kept
  // from a dropped chunk were not what it said: a new session may succeed.
  bool resumed_badly = done.status == 400 && failures > 0;
  return resumed_badly || done.status >= 500 ? StartOver(std::move(error)) : error;
}

Result<UploadOutcome> RegistryClient::UploadBlob(std::string_view digest, const BlobData& data,
                                                 const UploadOptions& options) {
  std::string what = "push blob " + std::string(digest);
  HttpClient http;
  if (VK_TRY_CTX(BlobExists(http, digest), what)) return UploadOutcome::kPresent;
  // A dropped monolithic PUT, or a resumed upload the registry then finds
  // corrupt (its digest check), starts over in a new session.
  UploadOptions first = options;
  for (int attempt = 1;; ++attempt) {
    bool mounted = false;
    std::string location = VK_TRY_CTX(StartUpload(http, digest, first, &mounted), what);
    if (mounted) return UploadOutcome::kMounted;
    first.mount_from.clear();
    auto sent = data.length > options.chunk_size ? PutChunked(http, location, digest, data, options)
                                                 : PutWhole(http, location, digest, data, options);
    if (sent.ok()) return UploadOutcome::kUploaded;
    bool start_over = sent.error().errno_value() == kTransientErrno;
    if (!start_over || attempt >= options_.attempts)
      return std::move(sent).error().WithContext(what);
  }
}

}  // namespace vk::image
