// Getting images into the store and turning them into ext4 bases: what
// `vk image pull`, `vk image convert`, `vk oci-pull` and `vk run` share.
#pragma once

#include <string>

#include "base/progress.h"
#include "base/result.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/store.h"

namespace vk::image {

enum class PullPolicy { kAlways, kMissing, kNever };
Result<PullPolicy> ParsePullPolicy(std::string_view text);

struct PullOptions {
  Platform platform;
  bool insecure = false;
  int parallel_layers = 3;
  Progress::Style progress = Progress::Style::kAuto;
};

// The name an image is recorded under: the canonical reference for registry
// images ("docker.io/library/alpine:latest"), the source as typed (with an
// absolute path) for local archives.
std::string StoreName(const ImageSource& source);

// Fetches the image (registry or local archive) into the store and records
// it. Blobs already present are not fetched again; partial ones resume.
Result<ImageRecord> PullImage(Store& store, const ImageSource& source, const PullOptions& options);

// The stored record, pulling first as `policy` says.
Result<ImageRecord> ResolveImage(Store& store, std::string_view text, PullPolicy policy,
                                 const PullOptions& options);

// The image's read-only ext4 base, built on first use (one process builds,
// others wait for it) and shared by every VM of the image.
Result<std::string> EnsureBase(Store& store, const ImageRecord& record,
                               Progress::Style progress = Progress::Style::kAuto);

// The image config (Entrypoint, Cmd, Env...) of a stored image.
Result<ImageConfig> ReadImageConfig(const Store& store, const ImageRecord& record);

// Layer blob paths, lowest first.
std::vector<std::string> LayerPaths(const Store& store, const ImageRecord& record);

}  // namespace vk::image
