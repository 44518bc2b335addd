// Image builds: tar archives, OCI layer stacks or a host directory in, a
// reproducible ext4 image (or one flattened tar) out. Inputs are read twice:
// a header scan builds the final tree (FsTree), then one pass streams file
// data straight into blocks allocated for it; nothing is extracted to disk.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "image/ext4_image.h"
#include "image/fingerprint.h"
#include "image/fs_tree.h"

namespace vk::image {

struct BuildOptions {
  uint64_t size_bytes = 0;   // 0: computed from the content, with headroom
  std::optional<Uuid> uuid;  // default: from the fingerprint
  Limits limits;
};

struct BuildResult {
  Digest fingerprint{};
  Uuid uuid{};
  uint64_t size_bytes = 0;
  uint64_t inodes = 0;
};

// Tar archives ("-" is stdin) in order; later entries override earlier ones.
// With Whiteouts::kOci the inputs are OCI layers, lowest first.
Result<BuildResult> BuildExt4FromTars(const std::vector<std::string>& inputs, Whiteouts whiteouts,
                                      const std::string& output, const BuildOptions& options);
Result<BuildResult> BuildExt4FromDir(const std::string& dir, const std::string& output,
                                     const BuildOptions& options);

inline Result<BuildResult> FlattenLayersToExt4(const std::vector<std::string>& layers,
                                               const std::string& output,
                                               const BuildOptions& options) {
  return BuildExt4FromTars(layers, Whiteouts::kOci, output, options);
}

// One pax tar of the flattened layers: directories and other non-data
// entries first (depth-first, by name), then files with data in layer order,
// then further hard links. Deterministic for the same layers.
Result<void> FlattenLayersToTar(const std::vector<std::string>& layers, const std::string& output,
                                const Limits& limits = {});

// Who owns an entry of a staged layer in the guest (the library's rootfs
// hooks name owners a non-root program cannot give its files on the host).
struct LayerOwner {
  std::string path;  // inside the layer, as the guest sees it ("/root/.ssh")
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// An empty, writable ext4 of `size_bytes` for a VM's scratch layer (vdb):
// one inode per 64 KiB (a quarter of mke2fs's default: mounting costs the
// guest time per inode), written in time independent of
// the size (the file is sparse and inode tables are never written).
Result<void> CreateScratchDisk(const std::string& output, uint64_t size_bytes);
// The same with `upper_dir`'s tree copied into its /upper, the overlay's
// upper directory: files a VM's root has before it boots (the library's
// rootfs hooks), on top of the shared base, without touching it. Entries the
// calling user owns on the host are root's in the guest (as a rootless
// container maps its user), then `owners` apply; a path of `owners` missing
// from the tree is an error.
Result<void> CreateScratchDiskWithUpper(const std::string& upper_dir, const std::string& output,
                                        uint64_t size_bytes,
                                        const std::vector<LayerOwner>& owners = {});

// The fingerprint a build of these inputs with these options would record.
Result<Digest> FingerprintInputs(InputKind kind, const std::vector<std::string>& inputs,
                                 uint64_t size_bytes);

}  // namespace vk::image
