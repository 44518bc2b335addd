// RegistryClient push endpoints: monolithic blob upload (POST then PUT with
// the digest, distribution spec "pushing a blob monolithically") and
// manifest PUT.
#include "image/registry_client.h"

namespace vk::image {
namespace {

Error PushError(const HttpResponse& response, const Reference& ref, std::string_view what) {
  std::string text = std::string(what) + ": HTTP " + std::to_string(response.status);
  if (!response.body.empty()) text += ": " + response.body.substr(0, 300);
  if (response.status == 401 || response.status == 403)
    text += ": run `vk login " + ref.registry + "` with an account that may push";
  return Error(text);
}

}  // namespace

Result<void> RegistryClient::PushBlob(std::string_view digest, std::string_view bytes) {
  HttpClient http;
  std::string what = "push blob " + std::string(digest);
  Call head;
  head.method = "HEAD";
  head.actions = "pull,push";
  head.url = BaseUrl() + reference_.repository + "/blobs/" + std::string(digest);
  HttpResponse exists = VK_TRY_CTX(Execute(http, head), what);
  if (exists.status == 200) return Ok();  // the registry has it already
  Call start;
  start.method = "POST";
  start.actions = "pull,push";
  start.url = BaseUrl() + reference_.repository + "/blobs/uploads/";
  HttpResponse session = VK_TRY_CTX(Execute(http, start), what);
  if (session.status != 202 || session.Header("location").empty())
    return PushError(session, reference_, what);
  std::string location = VK_TRY(ResolveUrl(start.url, session.Header("location")));
  Call put;
  put.method = "PUT";
  put.actions = "pull,push";
  put.url = location + (location.find('?') == std::string::npos ? "?" : "&") +
            "digest=" + UrlEncode(digest);
  put.headers = [] { return std::vector<std::string>{"Content-Type: application/octet-stream"}; };
  put.body = std::string(bytes);
  HttpResponse done = VK_TRY_CTX(Execute(http, put), what);
  if (done.status != 201) return PushError(done, reference_, what);
  return Ok();
}

Result<void> RegistryClient::PushManifest(std::string_view tag_or_digest,
                                          std::string_view media_type, std::string_view body) {
  HttpClient http;
  std::string what = "push manifest " + reference_.repository + ":" + std::string(tag_or_digest);
  Call put;
  put.method = "PUT";
  put.actions = "pull,push";
  put.url = BaseUrl() + reference_.repository + "/manifests/" + std::string(tag_or_digest);
  std::string content_type = "Content-Type: " + std::string(media_type);
  put.headers = [content_type] { return std::vector<std::string>{content_type}; };
  put.body = std::string(body);
  HttpResponse done = VK_TRY_CTX(Execute(http, put), what);
  if (done.status != 201) return PushError(done, reference_, what);
  return Ok();
}

}  // namespace vk::image
