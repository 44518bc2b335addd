// Ext4Image: a new ext4 filesystem image written entirely in userspace with
// libext2fs (no mount, no root). The geometry is fixed up front; inodes are
// created by walking an FsTree in sorted order so inode numbers and block
// placement depend only on the tree. Times, hash seed and UUID come from the
// caller, never from the clock or a random source, so the same inputs give a
// byte-identical image.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "image/fs_tree.h"

struct struct_ext2_filsys;

namespace vk::image {

inline constexpr uint32_t kExt4BlockSize = 4096;

struct Ext4Geometry {
  uint64_t blocks = 0;
  uint64_t inodes = 0;
  // Blocks per allocation cluster, a power of two; above 1 the image uses
  // ext4's bigalloc (a block group then spans that many times more blocks).
  uint32_t cluster_blocks = 1;
};

// Blocks and inodes for `stats` with headroom; `size_bytes` (if non-zero)
// overrides the block count and must be large enough.
Result<Ext4Geometry> ComputeGeometry(const TreeStats& stats, uint64_t size_bytes);

using Uuid = std::array<uint8_t, 16>;

class Ext4Image;

// Writes one regular file's data into blocks allocated for it. Offsets must
// not decrease (the order tar and read() deliver them); bytes that fall in
// holes of a sparse file are never written.
class DataSink {
 public:
  Result<void> Write(uint64_t offset, const void* data, size_t length);
  Result<void> Finish();

 private:
  friend class Ext4Image;
  struct Extent {
    uint64_t logical = 0;
    uint64_t physical = 0;
    uint64_t length = 0;
  };
  DataSink(Ext4Image* image, std::vector<Extent> extents, uint64_t size)
      : image_(image), extents_(std::move(extents)), size_(size) {}
  Result<void> Flush();
  Result<void> WriteBlocks(uint64_t logical, uint64_t count, const uint8_t* data);

  Ext4Image* image_;  // not owned
  std::vector<Extent> extents_;
  uint64_t size_ = 0;
  uint64_t base_ = 0;  // file offset of the staging buffer (block aligned)
  uint64_t used_ = 0;  // bytes of the staging buffer holding data
  uint64_t last_end_ = 0;
};

class Ext4Image {
 public:
  // Creates `path` (must not exist) as a sparse file of the geometry's size.
  static Result<std::unique_ptr<Ext4Image>> Create(const std::string& path, Ext4Geometry geometry,
                                                   int64_t fixed_time);
  ~Ext4Image();
  Ext4Image(const Ext4Image&) = delete;
  Ext4Image& operator=(const Ext4Image&) = delete;

  // Called for each regular file with data right after its blocks are
  // allocated (in creation order); may write the data now or keep the inode
  // for later (OpenData).
  using DataHook = std::function<Result<void>(Inode& inode, const std::string& path)>;

  // Creates every inode, directory entry, symlink, device node and xattr.
  Result<void> WriteTree(FsTree& tree, const DataHook& hook);
  Result<DataSink> OpenData(const Inode& inode);
  // Sets UUID and directory hash seed, writes bitmaps and superblocks.
  Result<void> Close(const Uuid& uuid, const Uuid& hash_seed);

 private:
  friend class DataSink;
  explicit Ext4Image(struct_ext2_filsys* fs) : fs_(fs), staging_(kStagingBytes) {}
  Result<void> InitMetadata(int64_t fixed_time);
  Result<void> WriteDir(Inode& dir, uint32_t dir_ino, std::string& path, uint32_t depth);
  Result<void> CreateEntry(uint32_t parent, const std::string& name, Inode& inode,
                           std::string& path, uint32_t depth);
  Result<uint32_t> CreateInode(uint32_t parent, Inode& inode);
  Result<void> AllocateData(uint32_t ino, Inode& inode);
  Result<void> Link(uint32_t parent, const std::string& name, uint32_t ino, FileType type);
  Result<void> SetMetadata(uint32_t ino, const Inode& inode);
  Result<void> SetXattrs(uint32_t ino, const Inode& inode);
  void CountFreeClusters();

  static constexpr size_t kStagingBytes = 1 << 20;
  struct_ext2_filsys* fs_;
  std::vector<uint8_t> staging_;
  const DataHook* hook_ = nullptr;
  bool closed_ = false;
};

}  // namespace vk::image
