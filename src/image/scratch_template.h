// Scratch disks from a template. Formatting a 64 GiB scratch disk with
// libext2fs takes ~10 ms and three fsyncs, on the path of every `vk run`.
// Every scratch disk of one size is the same bytes (its UUID is the
// fingerprint of its size), so the first one made is kept as a template and
// later ones are sparse copies of its ~1 MB of metadata: no formatting, no
// fsync (a scratch disk is thrown away with its VM anyway).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/sparse_copy.h"  // CopySparseFile, used for scratch disks

namespace vk::image {

// Writes a new scratch disk of `size_bytes` at `output` (which must not
// exist), making the template in `template_dir` first if it is missing.
Result<void> CreateScratchDiskFromTemplate(const std::string& template_dir,
                                           const std::string& output, uint64_t size_bytes);

// The template's file name for a size (format-versioned, so a change to the
// scratch disk layout never reuses an old template).
std::string ScratchTemplateName(uint64_t size_bytes);

// Whether `file_name` (in the templates directory) is a finished template of
// the current format: one of an older format is never used again, so
// `vk image prune` removes it.
bool IsCurrentScratchTemplate(std::string_view file_name);

}  // namespace vk::image
