// What a RUN step changed: the overlay upper directory on the VM's scratch
// disk (ext4, read with libext2fs: no mount, no root), turned into an OCI
// layer. overlayfs marks a deleted lower file with a 0:0 character device
// and a directory whose lower contents are hidden with the xattr
// trusted.overlay.opaque=y (kernel Documentation/filesystems/overlayfs.rst,
// "whiteouts and opaque directories"); OCI layers say the same with
// `.wh.NAME` and `.wh..wh..opq` entries (image-spec layer.md). The disk was
// written by the guest: every size, name and count read from it is checked.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "build/layer_tar.h"

namespace vk::build {

struct UpperReadOptions {
  std::string upper = "/upper";  // the overlay's upper directory on the disk
  // Paths (relative to the root) never taken into the layer: files the VM's
  // set-up writes (/etc/hosts, /etc/hostname, /etc/resolv.conf), as docker
  // keeps them out of a RUN's layer.
  std::vector<std::string> skip;
  // Paths the VM's set-up created that the base lacks (mount points and
  // their parents: StageFiles::MissingPaths): left out when the RUN put
  // nothing there, i.e. an empty regular file (a bind's target) or a
  // directory with nothing kept below it.
  std::vector<std::string> stubs;
  uint64_t max_entries = 2'000'000;  // inodes read -> host memory
  uint32_t max_depth = 1024;         // directory nesting -> recursion depth
};

// Adds the upper directory's tree to `layer`; regular files' bytes are copied
// into `extract_dir` (an existing, empty directory). A missing upper
// directory (the RUN changed nothing) adds nothing.
Result<void> ReadUpperLayer(const std::string& disk, const std::string& extract_dir,
                            const UpperReadOptions& options, LayerTar& layer);

}  // namespace vk::build
