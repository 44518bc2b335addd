// A host directory as build input (`vk mkext DIR`): indexed without following
// symlinks, then file contents copied straight into the image. Ownership,
// modes, times, xattrs, hard links and sparse holes are taken from the host;
// device nodes and FIFOs become inodes only.
#pragma once

#include <functional>
#include <string>

#include "base/result.h"
#include "image/ext4_image.h"
#include "image/fs_tree.h"
#include "image/sha256.h"

namespace vk::image {

Result<void> IndexDirectory(const std::string& dir, FsTree& tree);
// Indexes the entries of `dir` (not the directory itself) under the tree's
// directory `at` ("upper"), which the caller has added; data paths in the
// tree then start with "/<at>".
Result<void> IndexDirectoryAt(const std::string& dir, const std::string& at, FsTree& tree);

// Canonical digest of the tree's metadata (paths, types, modes, owners,
// times, sizes, sparse maps, targets, devices, xattrs, hard links).
Digest TreeMetadataDigest(const FsTree& tree);

// Regular files with data, depth-first in name order, each inode once: the
// order Ext4Image::WriteTree creates them.
void ForEachDataFile(FsTree& tree, const std::function<void(Inode&, const std::string&)>& fn);

// Streams the host file behind `path` into `sink` (if given) and `content`.
Result<void> CopyHostFile(const std::string& dir, const std::string& path, const Inode& inode,
                          DataSink* sink, Sha256& content);

}  // namespace vk::image
