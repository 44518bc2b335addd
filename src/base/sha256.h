// SHA-256 of small in-memory inputs (snapshot state records, warm template
// keys, manifests, configs, name keys), computed by nettle (libnettle8, with
// SHA-NI where the CPU has it). Not OpenSSL: libcrypto would make every VMM
// map it for the VM's whole life, ~3.4 MB resident of which 404 KiB private
// relocations (docs/snapshots.md, "Memory"); nettle is a small library with
// few relocations and, like the other heavy libraries, bound on first use
// (cmake/lazy_library.cmake). Streamed layers and files keep OpenSSL
// (image/sha256.h).
#pragma once

#include <nettle/sha2.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/result.h"

namespace vk {

using Sha256Digest = std::array<uint8_t, 32>;

class Sha256Hasher {
 public:
  Sha256Hasher();
  void Update(std::span<const uint8_t> bytes);
  void Update(std::string_view text) {
    Update(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  }
  // The digest of everything updated so far; the hasher starts over afterwards.
  Sha256Digest Finish();

 private:
  sha256_ctx context_;
};

Sha256Digest Sha256Of(std::span<const uint8_t> bytes);
Sha256Digest Sha256Of(std::string_view text);

// Binds nettle now, for a process about to lose the right to open files
// (the VMM sandbox): a checksum computed later must not need a dlopen.
Result<void> LoadSha256();

}  // namespace vk
