// HttpClient: one libcurl easy handle (one per thread) for registry traffic.
// It never follows redirects itself: the registry client decides per hop
// whether credentials may travel (they never cross to another host).
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "image/registry_tls.h"

namespace vk::image {

// A request body produced on demand (a blob streamed from a file, never
// held in memory whole): `read` fills up to `size` bytes of `buffer` with the
// body's bytes from `offset` (0 = its first byte) and returns how many it
// wrote. Every attempt of a request starts again at offset 0.
struct BodySource {
  uint64_t length = 0;
  std::function<Result<size_t>(uint64_t offset, char* buffer, size_t size)> read;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;    // "Name: value"
  std::string body;                    // sent for PUT/POST/PATCH
  const TlsSettings* tls = nullptr;    // extra CAs / client certificate (not owned)
  const BodySource* upload = nullptr;  // streamed instead of `body` (not owned)
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names, last value wins
  std::string body;                            // when no sink was given
  std::string Header(std::string_view name) const;
};

// Streams a 2xx response: `on_headers` once its headers are in (status and
// headers set, body empty), then `on_body` per chunk. Returning an error from
// either aborts the transfer with that error.
struct BodySink {
  std::function<Result<void>(const HttpResponse& head)> on_headers;
  std::function<Result<void>(const char* data, size_t length)> on_body;
};

// Errors worth another attempt (connection refused/reset, timeouts) carry
// this errno value so callers can tell them from permanent failures.
inline constexpr int kTransientErrno = EAGAIN;
// The server's certificate did not verify against the trusted CAs.
inline constexpr int kUntrustedCertificateErrno = EBADMSG;
// The server wanted a client certificate we did not present.
inline constexpr int kClientCertificateErrno = EACCES;

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Non-2xx bodies are always collected (up to a small cap) for messages;
  // a 2xx body goes to `sink` if given, else into response.body (up to
  // `max_body` bytes, beyond which the request fails).
  Result<HttpResponse> Send(const HttpRequest& request, const BodySink* sink = nullptr,
                            size_t max_body = 4 << 20);

 private:
  CURL* curl_ = nullptr;  // made by the first Send
};

// Loads libcurl, which `vk` binds on first use (base/lazy_library.h): call
// before any function here, so that a missing libcurl is an error naming its
// package rather than an abort at the first curl call.
Result<void> LoadCurl();

// Resolves a Location header against the URL it came from.
Result<std::string> ResolveUrl(std::string_view base, std::string_view location);
// "host[:port]" of a URL, lower-cased (empty when unparsable).
std::string UrlAuthority(std::string_view url);
// "https", "http"... lower-cased (empty when unparsable).
std::string UrlScheme(std::string_view url);
// The host alone, lower-cased (empty when unparsable).
std::string UrlHost(std::string_view url);
std::string UrlEncode(std::string_view text);

}  // namespace vk::image
