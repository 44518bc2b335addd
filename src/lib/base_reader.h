// Reading files of a VM's read-only base, for Rootfs::ReadFile: a rootfs
// directory, an ext4 image (read with libext2fs, never mounted or
// modified), or an image's cached ext4 base (pulled first if missing).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "virtkit/virtkit.h"

namespace virtkit::internal {

using BaseReader = std::function<Result<std::string>(std::string_view guest_path)>;

// One file of an ext4 image, symlinks followed inside the image.
Result<std::string> ReadExt4File(const std::string& image, std::string_view guest_path);

// For rootfs_path (a directory or an ext4 file) or, when it is empty, for
// `image` in the store under `data_dir`, resolved on the first read.
BaseReader MakeBaseReader(std::string image, std::string rootfs_path, std::string data_dir);

}  // namespace virtkit::internal
