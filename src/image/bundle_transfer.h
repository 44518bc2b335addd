// `vk registry push BUNDLE REF` / `vk registry pull REF OUT`: VM bundles
// (a directory of parts: NAME.ext4 disks, kernel, initrd, agent,
// config.json) moved through any OCI registry in content-defined chunks, so
// a new version of a bundle sends and fetches only the chunks that changed.
// Format: image/bundle_format.h and docs/registry.md.
#pragma once

#include <cstdint>
#include <string>

#include "base/progress.h"
#include "base/result.h"
#include "image/fastcdc.h"
#include "image/reference.h"

namespace vk::image {

// Transfers at once: chunks are small, so latency, not bandwidth, bounds a
// single stream; 16 keeps a registry busy without opening hundreds.
inline constexpr int kBundleTransfers = 16;

struct BundleOptions {
  bool insecure = false;
  int parallel = kBundleTransfers;
  Progress::Style progress = Progress::Style::kAuto;
};

struct BundlePushResult {
  std::string manifest_digest;
  uint64_t total_bytes = 0;     // of every part
  uint64_t zero_bytes = 0;      // in all-zero chunks (not stored)
  uint64_t reused_bytes = 0;    // in chunks the registry already had
  uint64_t uploaded_bytes = 0;  // uncompressed bytes of the chunks sent
  uint64_t bytes_sent = 0;      // compressed bytes handed to the network
  size_t chunks = 0, chunks_sent = 0;
};

Result<BundlePushResult> PushBundle(const std::string& dir, const Reference& ref,
                                    const BundleOptions& options);

struct BundlePullResult {
  std::string manifest_digest;
  uint64_t total_bytes = 0;
  uint64_t fetched_bytes = 0;  // compressed bytes downloaded
  uint64_t kept_bytes = 0;     // uncompressed bytes already in place (resumed)
  size_t chunks = 0, chunks_fetched = 0;
};

// Pulls into the directory `out`, which must not exist: the parts are
// written as sparse files in a temp directory beside it (kept, and resumed,
// if the pull is interrupted), every chunk verified, then renamed to `out`.
Result<BundlePullResult> PullBundle(const Reference& ref, const std::string& out,
                                    const BundleOptions& options);

}  // namespace vk::image
