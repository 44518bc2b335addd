// RegistryClient::FetchBlobBytes: a small blob (a bundle chunk's zstd frame,
// a bundle index) straight into memory, bounded by its descriptor's size
// and checked against its digest before anyone reads it.
#include "image/registry_client.h"
#include "image/sha256.h"

namespace vk::image {

Result<std::string> RegistryClient::FetchBlobBytes(std::string_view digest, uint64_t size) {
  std::string what = "blob " + std::string(digest);
  if (size == 0) return Error(what + ": its descriptor says size 0");
  HttpClient http;
  Call call;
  call.url = BaseUrl() + reference_.repository + "/blobs/" + std::string(digest);
  call.max_body = static_cast<size_t>(size);  // one byte more fails the transfer
  HttpResponse response = VK_TRY_CTX(Execute(http, call), what);
  if (response.status != 200)
    return Error(what + ": HTTP " + std::to_string(response.status) + " from " +
                 reference_.registry);
  if (response.body.size() != size)
    return Error(what + ": " + std::to_string(response.body.size()) +
                 " bytes arrived, its descriptor says " + std::to_string(size));
  Sha256 sha;
  sha.Update(response.body);
  if ("sha256:" + DigestHex(sha.Final()) != digest)
    return Error(what + ": the bytes the registry sent do not match the digest");
  return std::move(response.body);
}

}  // namespace vk::image
