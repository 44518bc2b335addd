// Sha256: incremental SHA-256 (OpenSSL EVP) for fingerprints and digests.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace vk::image {

using Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Update(const void* data, size_t length);
  void Update(std::string_view text) { Update(text.data(), text.size()); }
  Digest Final();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string DigestHex(const Digest& digest);

}  // namespace vk::image
