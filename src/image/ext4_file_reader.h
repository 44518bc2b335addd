// Reads one regular file out of an ext4 image with libext2fs (no mount, no
// root): what the library's rootfs hooks see of an image's shared base.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vk::image {

// The contents of `guest_path` (absolute; symlinks followed inside the image)
// in the ext4 image at `image_path`. ErrorKind::kNotFound when there is no
// such file, kUsage when it is not a regular file or is larger than
// `max_bytes` (the image may be someone else's: its sizes are not trusted),
// kDisk when the image cannot be read.
Result<std::string> ReadExt4File(const std::string& image_path, std::string_view guest_path,
                                 size_t max_bytes);

}  // namespace vk::image
