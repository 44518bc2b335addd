#include "image/http_client.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>

#include "base/lazy_library.h"

VK_LAZY_LIBRARY(vk_lazy_curl);

namespace vk::image {
namespace {

constexpr size_t kMaxErrorBody = 64 << 10;  // enough for a registry's JSON error
// All header lines of one response (curl bounds each line, not their
// number): a registry sends a few hundred bytes, a long token challenge a
// few KiB. Bounds the header map a hostile server can make us build.
constexpr size_t kMaxHeaderBytes = 256 << 10;
constexpr long kConnectTimeoutSeconds = 30;
// A transfer that moves less than 1 byte/s for this long is treated as dead.
constexpr long kStallSeconds = 60;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

struct Transfer {
  CURL* curl = nullptr;
  HttpResponse response;
  const BodySink* sink = nullptr;
  size_t max_body = 0;
  bool success_status = false;  // known once the header block has ended
  std::optional<Error> sink_error;
  bool too_large = false;
  size_t header_bytes = 0;
  bool headers_too_large = false;
  const BodySource* upload = nullptr;
  uint64_t upload_offset = 0;  // next body byte curl asks for
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  t->header_bytes += line.size();
  if (t->header_bytes > kMaxHeaderBytes) {
    t->headers_too_large = true;
    return 0;  // aborts the transfer
  }
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after 100 Continue)
    t->response.headers.clear();
    t->header_bytes = line.size();
  } else if (line == "\r\n" || line == "\n") {  // end of this header block
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &t->response.status);
    t->success_status = t->response.status >= 200 && t->response.status < 300;
    bool streaming = t->sink != nullptr && t->success_status;
    if (streaming && t->sink->on_headers) {
      auto result = t->sink->on_headers(t->response);
      if (!result.ok()) {
        t->sink_error = std::move(result).error();
        return 0;  // aborts the transfer
      }
    }
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    t->response.headers[Lower(Trim(line.substr(0, colon)))] = Trim(line.substr(colon + 1));
  }
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t length = size * count;
  if (t->sink != nullptr && t->sink->on_body && t->success_status) {
    auto result = t->sink->on_body(data, length);
    if (!result.ok()) {
      t->sink_error = std::move(result).error();
      return 0;  // aborts the transfer
    }
    return length;
  }
  size_t cap = t->success_status ? t->max_body : kMaxErrorBody;
  if (t->response.body.size() + length > cap) {
    if (t->success_status) {
      t->too_large = true;
      return 0;
    }
    return length;  // keep the start of an error body only
  }
  // One allocation for a body of declared length within the cap: appending
  // curl's 16 KiB pieces would regrow it, copying (and faulting in) the
  // bytes again at each doubling.
  curl_off_t declared = -1;
  if (t->response.body.empty() && t->success_status &&
      curl_easy_getinfo(t->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &declared) == CURLE_OK &&
      declared > 0 && static_cast<uint64_t>(declared) <= cap)
    t->response.body.reserve(static_cast<size_t>(declared));
  t->response.body.append(data, length);
  return length;
}

size_t OnUploadRead(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  uint64_t left = t->upload->length - t->upload_offset;
  size_t want = static_cast<size_t>(std::min<uint64_t>(left, size * count));
  if (want == 0) return 0;
  auto got = t->upload->read(t->upload_offset, buffer, want);
  if (!got.ok() || *got == 0 || *got > want) {
    t->sink_error = got.ok() ? Error("the request body ended before its declared length")
                             : std::move(got).error();
    return CURL_READFUNC_ABORT;
  }
  t->upload_offset += *got;
  return *got;
}

// curl rewinds the body when it must send it again on the same call.
int OnUploadSeek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > t->upload->length)
    return CURL_SEEKFUNC_FAIL;
  t->upload_offset = static_cast<uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

bool IsTransient(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return true;
    default: return false;
  }
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  auto it = headers.find(Lower(name));
  return it == headers.end() ? std::string() : it->second;
}

Result<void> LoadCurl() { return LoadLazyLibrary(vk_lazy_curl); }

HttpClient::HttpClient() = default;

HttpClient::~HttpClient() {
  if (curl_ != nullptr) curl_easy_cleanup(curl_);
}

namespace {

void SetRequestOptions(CURL* curl, const HttpRequest& request, curl_slist* headers) {
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (request.upload != nullptr) {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);  // the method stays CUSTOMREQUEST's
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
                     static_cast<curl_off_t>(request.upload->length));
  } else if (request.method == "PUT" || request.method == "POST" || request.method == "PATCH") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "virtkit/0.1");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, kConnectTimeoutSeconds);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, kStallSeconds);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  if (request.tls == nullptr) return;
  if (!request.tls->ca_bundle.empty()) {
    curl_blob blob{const_cast<char*>(request.tls->ca_bundle.data()), request.tls->ca_bundle.size(),
                   CURL_BLOB_COPY};
    curl_easy_setopt(curl, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (!request.tls->client_cert.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, request.tls->client_cert.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, request.tls->client_key.c_str());
  }
}

// A TLS 1.3 server that wants a client certificate finishes the handshake
// and then drops the connection (alert 116, which curl may not get to read
// before its send fails): a TLS session that broke before any response byte,
// with no certificate presented, is that case.
bool LooksLikeClientCertificateDemand(CURL* curl, CURLcode code, const HttpRequest& request,
                                      std::string_view detail) {
  if (detail.find("certificate required") != std::string_view::npos) return true;
  if (code != CURLE_SEND_ERROR && code != CURLE_RECV_ERROR) return false;
  if (request.tls != nullptr && !request.tls->client_cert.empty()) return false;
  curl_off_t tls_done = 0;
  long header_bytes = 0;
  curl_easy_getinfo(curl, CURLINFO_APPCONNECT_TIME_T, &tls_done);
  curl_easy_getinfo(curl, CURLINFO_HEADER_SIZE, &header_bytes);
  return tls_done > 0 && header_bytes == 0;
}

// A TLS failure as the user can act on it: untrusted server certificate,
// or a client certificate the server wanted; else curl's words.
Error TransferError(CURL* curl, const HttpRequest& request, CURLcode code, const char* detail) {
  std::string what = request.method + " " + request.url;
  std::string text = what + ": " + curl_easy_strerror(code);
  if (*detail != '\0') text += " (" + std::string(detail) + ")";
  if (code == CURLE_PEER_FAILED_VERIFICATION)
    return Error(what + ": the server's TLS certificate is not trusted (" + detail + ")",
                 kUntrustedCertificateErrno);
  if (LooksLikeClientCertificateDemand(curl, code, request, detail))
    return Error(text + ": the server closed the TLS session before answering; it probably " +
                     "requires a TLS client certificate",
                 kClientCertificateErrno);
  return Error(text, IsTransient(code) ? kTransientErrno : 0);
}

}  // namespace

Result<HttpResponse> HttpClient::Send(const HttpRequest& request, const BodySink* sink,
                                      size_t max_body) {
  VK_TRY(LoadCurl());
  if (curl_ == nullptr) {
    GlobalInit();
    curl_ = curl_easy_init();
    if (curl_ == nullptr) std::abort();  // only fails when out of memory
  } else {
    curl_easy_reset(curl_);
  }
  Transfer t;
  t.curl = curl_;
  t.sink = sink;
  t.max_body = max_body;
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr,
                                                                      &curl_slist_free_all);
  for (const std::string& h : request.headers)
    headers.reset(curl_slist_append(headers.release(), h.c_str()));
  SetRequestOptions(curl_, request, headers.get());
  curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &t);
  if (request.upload != nullptr) {
    t.upload = request.upload;
    curl_easy_setopt(curl_, CURLOPT_READFUNCTION, &OnUploadRead);
    curl_easy_setopt(curl_, CURLOPT_READDATA, &t);
    curl_easy_setopt(curl_, CURLOPT_SEEKFUNCTION, &OnUploadSeek);
    curl_easy_setopt(curl_, CURLOPT_SEEKDATA, &t);
  }
  char detail[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, detail);
  CURLcode code = curl_easy_perform(curl_);
  curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, nullptr);  // `detail` dies with this frame
  if (t.sink_error) return std::move(*t.sink_error);
  std::string what = request.method + " " + request.url;
  if (t.headers_too_large)
    return Error(what + ": response headers larger than " + std::to_string(kMaxHeaderBytes) +
                 " bytes");
  if (t.too_large)
    return Error(what + ": response larger than " + std::to_string(max_body) + " bytes");
  if (code != CURLE_OK) return TransferError(curl_, request, code, detail);
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &t.response.status);
  return std::move(t.response);
}

Result<std::string> ResolveUrl(std::string_view base, std::string_view location) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> url(curl_url(), &curl_url_cleanup);
  if (curl_url_set(url.get(), CURLUPART_URL, std::string(base).c_str(), 0) != CURLUE_OK ||
      curl_url_set(url.get(), CURLUPART_URL, std::string(location).c_str(), 0) != CURLUE_OK)
    return Error("bad redirect location \"" + std::string(location) + "\"");
  char* text = nullptr;
  if (curl_url_get(url.get(), CURLUPART_URL, &text, 0) != CURLUE_OK)
    return Error("bad redirect location \"" + std::string(location) + "\"");
  std::string out(text);
  curl_free(text);
  return out;
}

namespace {

// One part of a parsed URL, lower-cased; the port with its scheme's default.
std::string UrlPart(std::string_view text, CURLUPart part) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> url(curl_url(), &curl_url_cleanup);
  if (curl_url_set(url.get(), CURLUPART_URL, std::string(text).c_str(), 0) != CURLUE_OK) return {};
  char* value = nullptr;
  if (curl_url_get(url.get(), part, &value, CURLU_DEFAULT_PORT) != CURLUE_OK) return {};
  std::string out = Lower(value);
  curl_free(value);
  return out;
}

}  // namespace

std::string UrlAuthority(std::string_view text) {
  std::string host = UrlPart(text, CURLUPART_HOST);
  std::string port = UrlPart(text, CURLUPART_PORT);
  return port.empty() ? host : host + ":" + port;
}

std::string UrlScheme(std::string_view text) { return UrlPart(text, CURLUPART_SCHEME); }

std::string UrlHost(std::string_view text) { return UrlPart(text, CURLUPART_HOST); }

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace vk::image
