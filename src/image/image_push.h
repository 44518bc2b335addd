// Pushing a stored image to a registry as a standard image (`vk image push`):
// its layers and config as blobs, then its manifest byte for byte, so the
// registry serves the same manifest digest the store has and skopeo or
// docker pull it back unchanged.
#pragma once

#include <cstdint>
#include <string>

#include "base/progress.h"
#include "base/result.h"
#include "image/blob_upload.h"
#include "image/reference.h"
#include "image/store.h"

namespace vk::image {

struct ImagePushOptions {
  bool insecure = false;
  int parallel_blobs = 3;  // as many connections as a pull uses
  uint64_t chunk_size = kDefaultUploadChunk;
  Progress::Style progress = Progress::Style::kAuto;
};

struct ImagePushResult {
  std::string manifest_digest;
  uint64_t bytes_sent = 0;  // blob bytes handed to the network
  int uploaded = 0, present = 0, mounted = 0;
};

// Pushes `record` (which must be complete in `store`) to `target`. Blobs the
// registry has are skipped; when the image came from another repository of
// the same registry its blobs are mounted from there.
Result<ImagePushResult> PushImage(Store& store, const ImageRecord& record, const Reference& target,
                                  const ImagePushOptions& options);

}  // namespace vk::image
