// Turns tar entries (untrusted) into FsTree changes: metadata is copied out
// of libarchive and validated, then added, hard-linked or whited out.
#pragma once

#include <cstdint>

#include "base/result.h"
#include "image/fs_tree.h"
#include "image/tar_stream.h"

struct archive_entry;

namespace vk::image {

Result<EntryMeta> MetaFromEntry(archive_entry* entry);

// Applies entry number `ordinal` of input `layer` to the tree.
Result<void> ApplyTarEntry(FsTree& tree, archive_entry* entry, uint32_t layer, uint64_t ordinal,
                           Whiteouts whiteouts);

// Indexes every entry of `stream` (headers only) into the tree.
Result<void> IndexTar(TarStream& stream, FsTree& tree, uint32_t layer, Whiteouts whiteouts);

}  // namespace vk::image
