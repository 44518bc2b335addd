// Build fingerprints: the SHA-256 of everything that determines an image
// (converter version, input kind, options, each input's digest). The image
// UUID is taken from it, so `vk fingerprint` can tell a fresh image from a
// stale one without a side database.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "image/ext4_image.h"
#include "image/sha256.h"

namespace vk::image {

// Bump when the writer's output for the same inputs changes.
inline constexpr std::string_view kConverterVersion = "virtkit-ext4/1";

enum class InputKind { kTar, kOciLayers, kDirectory };

Digest Fingerprint(InputKind kind, uint64_t size_bytes, const std::vector<Digest>& inputs);
// RFC 9562 version-8 ("custom") UUID from the first 16 bytes.
Uuid UuidFromFingerprint(const Digest& fingerprint);
Uuid HashSeedFromFingerprint(const Digest& fingerprint);

std::string FormatUuid(const Uuid& uuid);
Result<Uuid> ParseUuid(std::string_view text);
// Reads the filesystem UUID from an ext4 image's superblock.
Result<Uuid> ReadImageUuid(const std::string& path);
// SHA-256 of a file's bytes ("-" reads stdin).
Result<Digest> DigestFile(const std::string& path);

}  // namespace vk::image
