// SHA-256 (FIPS 180-4) in plain C++, for the VMM's own checksums: a snapshot's
// state record and a warm template's key, kilobytes each. OpenSSL would make
// every VMM map libcrypto for them, ~3.4 MB resident for the VM's whole life
// (docs/snapshots.md, "Memory"). Image digests hash megabytes and keep using
// OpenSSL's accelerated code (image/sha256.h).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace vk {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256Hasher {
 public:
  void Update(std::span<const uint8_t> bytes);
  void Update(std::string_view text) {
    Update(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  }
  // The digest of everything updated so far; the hasher is spent afterwards.
  Sha256Digest Finish();

 private:
  void Compress(const uint8_t* block);

  // FIPS 180-4 §5.3.3: the initial hash value.
  std::array<uint32_t, 8> state_ = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                    0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::array<uint8_t, 64> block_{};
  size_t block_used_ = 0;
  uint64_t total_bytes_ = 0;
};

Sha256Digest Sha256Of(std::span<const uint8_t> bytes);
Sha256Digest Sha256Of(std::string_view text);

}  // namespace vk
