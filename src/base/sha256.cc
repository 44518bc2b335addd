#include "base/sha256.h"

#include "base/lazy_library.h"

VK_LAZY_LIBRARY(vk_lazy_nettle);

namespace vk {

Sha256Hasher::Sha256Hasher() { sha256_init(&context_); }

void Sha256Hasher::Update(std::span<const uint8_t> bytes) {
  sha256_update(&context_, bytes.size(), bytes.data());
}

Sha256Digest Sha256Hasher::Finish() {
  Sha256Digest digest;
  sha256_digest(&context_, digest.size(), digest.data());  // also re-initializes the context
  return digest;
}

Sha256Digest Sha256Of(std::span<const uint8_t> bytes) {
  Sha256Hasher hasher;
  hasher.Update(bytes);
  return hasher.Finish();
}

Sha256Digest Sha256Of(std::string_view text) {
  Sha256Hasher hasher;
  hasher.Update(text);
  return hasher.Finish();
}

Result<void> LoadSha256() { return LoadLazyLibrary(vk_lazy_nettle); }

}  // namespace vk
