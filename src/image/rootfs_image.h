// One-layer images made on this machine: a root filesystem tar (from
// mmdebstrap, a build, an export) stored as an OCI image under a name, so
// `vk run NAME` works with no registry at hand.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "image/manifest.h"
#include "image/store.h"

namespace vk::image {

// Moves `tar_path` (a file inside the store's tmp/, so the move is a rename)
// into the store as the image's only layer and records the image as `name`
// (normalised like a reference: "debian:local" -> docker.io/library/debian:local).
Result<ImageRecord> StoreRootfsTar(Store& store, const std::string& name,
                                   const std::string& tar_path, ImageConfig config);

struct DebianOptions {
  std::string suite = "bookworm";
  std::vector<std::string> packages;  // beyond the minbase variant
  std::string mirror;                 // empty: mmdebstrap's default
};

// `vk image from-debian NAME`: mmdebstrap (Debian's package) writes a
// minbase root as a tar, which becomes the image NAME.
Result<ImageRecord> ImageFromDebian(Store& store, const std::string& name,
                                    const DebianOptions& options);

}  // namespace vk::image
