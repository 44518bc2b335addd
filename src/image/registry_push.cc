// RegistryClient push endpoints for small documents: a blob from memory
// (configs) and the manifest PUT.
#include "image/registry_client.h"

namespace vk::image {

Error PushStatusError(const HttpResponse& response, const Reference& ref, std::string_view what) {
  std::string text = std::string(what) + ": HTTP " + std::to_string(response.status);
  if (!response.body.empty()) text += ": " + response.body.substr(0, 300);
  if (response.status == 401 || response.status == 403)
    text += ": run `vk login " + ref.registry + "` with an account that may push";
  return Error(text);
}

Result<void> RegistryClient::PushBlob(std::string_view digest, std::string_view bytes) {
  VK_TRY(UploadBlob(digest, BlobData::Memory(bytes)));
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
  if (done.status != 201) return PushStatusError(done, reference_, what);
  return Ok();
}

}  // namespace vk::image
