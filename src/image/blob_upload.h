// What RegistryClient::UploadBlob sends and how (distribution spec "pushing
// blobs"): the bytes of one blob, read on demand from a file range or from
// memory, and the choices of one upload.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "image/http_client.h"
#include "image/reference.h"

namespace vk::image {

// The blob's bytes: [offset, offset + length) of `fd` (a stored layer, a
// disk chunk), or `bytes` when fd < 0 (manifests, configs, compressed
// chunks). Neither is owned; both must outlive the upload.
struct BlobData {
  int fd = -1;
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string_view bytes;

  static BlobData FileRange(int fd, uint64_t offset, uint64_t length) {
    return {fd, offset, length, {}};
  }
  static BlobData Memory(std::string_view bytes) { return {-1, 0, bytes.size(), bytes}; }
  // Reads up to `size` bytes at `at` (relative to the blob's start).
  Result<size_t> Read(uint64_t at, char* buffer, size_t size) const;
};

// Blobs up to this size go in one PUT; larger ones in PATCH chunks of this
// size, so a dropped connection costs at most one chunk.
inline constexpr uint64_t kDefaultUploadChunk = 32 << 20;

struct UploadOptions {
  // A repository on the same registry known to hold the blob (where the
  // image was pulled from): tried as a cross-repository mount first.
  std::string mount_from;
  uint64_t chunk_size = kDefaultUploadChunk;
  // (bytes of this blob sent so far, its size); restarts go back down.
  std::function<void(uint64_t done, uint64_t total)> progress;
  // Adds every body byte handed to the network, retries included.
  std::atomic<uint64_t>* bytes_sent = nullptr;
};

enum class UploadOutcome {
  kPresent,   // the registry had it: nothing sent
  kMounted,   // linked from options.mount_from: nothing sent
  kUploaded,  // its bytes were sent
};

// "0-1023" (a registry's Range header on an upload: the bytes it holds,
// inclusive) -> 1024. Registries answer "0-0" for an empty upload as well as
// for one byte; `acknowledged` (what we know it accepted) tells them apart.
std::optional<uint64_t> ParseUploadRange(std::string_view header, uint64_t acknowledged);

// Runs task(0) .. task(count - 1) on up to `parallel` threads (each
// transfer uses its own connection); the first error stops handing out
// work and is returned once the running tasks end.
Result<void> RunTransfers(size_t count, int parallel,
                          const std::function<Result<void>(size_t)>& task);

// A push request the registry refused: its status and error body, with a
// `vk login` hint for 401/403.
Error PushStatusError(const HttpResponse& response, const Reference& ref, std::string_view what);

}  // namespace vk::image
