#include "image/ext4_image.h"

extern "C" {
#include <et/com_err.h>
}
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "base/lazy_library.h"
#include "base/unique_fd.h"
#include "image/ext2_handles.h"

VK_LAZY_LIBRARY(vk_lazy_ext2fs);
VK_LAZY_LIBRARY(vk_lazy_com_err);

namespace vk::image {
namespace {

constexpr uint32_t kInodeSize = 256;
constexpr uint32_t kLostFoundBytes = 16384;  // as mke2fs: room for e2fsck to reconnect
// Chosen once for all virtkit images: with the csum_seed feature, metadata
// checksums do not depend on the UUID, so the UUID can be set at the end.
constexpr uint32_t kChecksumSeed = 0x766b6974;  // "vkit"

#define VK_EXT2(expr, what)                                   \
  do {                                                        \
    errcode_t vk_ext2_code_ = (expr);                         \
    if (vk_ext2_code_) return Ext2Error(what, vk_ext2_code_); \
  } while (0)

uint16_t ModeBits(FileType type) {
  switch (type) {
    case FileType::kRegular: return LINUX_S_IFREG;
    case FileType::kDirectory: return LINUX_S_IFDIR;
    case FileType::kSymlink: return LINUX_S_IFLNK;
    case FileType::kCharDev: return LINUX_S_IFCHR;
    case FileType::kBlockDev: return LINUX_S_IFBLK;
    case FileType::kFifo: return LINUX_S_IFIFO;
    case FileType::kSocket: return LINUX_S_IFSOCK;
  }
  return 0;
}

int DirentType(FileType type) {
  switch (type) {
    case FileType::kRegular: return EXT2_FT_REG_FILE;
    case FileType::kDirectory: return EXT2_FT_DIR;
    case FileType::kSymlink: return EXT2_FT_SYMLINK;
    case FileType::kCharDev: return EXT2_FT_CHRDEV;
    case FileType::kBlockDev: return EXT2_FT_BLKDEV;
    case FileType::kFifo: return EXT2_FT_FIFO;
    case FileType::kSocket: return EXT2_FT_SOCK;
  }
  return EXT2_FT_UNKNOWN;
}

// ext4 stores seconds as 32 signed bits plus two epoch bits in *_extra,
// which spans 1901..2446; times outside are clamped to that range.
void EncodeTime(int64_t sec, uint32_t nsec, __u32* low, __u32* extra) {
  constexpr int64_t kMin = INT32_MIN;
  constexpr int64_t kMax = (int64_t{1} << 34) + INT32_MIN - 1;
  sec = std::clamp(sec, kMin, kMax);
  *low = static_cast<uint32_t>(sec);
  uint32_t epoch = static_cast<uint32_t>((sec - static_cast<int32_t>(sec)) >> 32) & EXT4_EPOCH_MASK;
  *extra = epoch | (std::min<uint32_t>(nsec, 999'999'999) << EXT4_EPOCH_BITS);
}

void FillInode(const Inode& in, ext2_inode_large& out) {
  out.i_mode = ModeBits(in.type) | (in.permissions & 07777);
  out.i_uid = in.uid & 0xffff;
  out.i_gid = in.gid & 0xffff;
  ext2fs_set_i_uid_high(out, in.uid >> 16);
  ext2fs_set_i_gid_high(out, in.gid >> 16);
  out.i_extra_isize = sizeof(ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
  EncodeTime(in.mtime_sec, in.mtime_nsec, &out.i_mtime, &out.i_mtime_extra);
  // Tar carries mtime only; atime/ctime/crtime follow it for determinism.
  EncodeTime(in.mtime_sec, in.mtime_nsec, &out.i_atime, &out.i_atime_extra);
  EncodeTime(in.mtime_sec, in.mtime_nsec, &out.i_ctime, &out.i_ctime_extra);
  EncodeTime(in.mtime_sec, in.mtime_nsec, &out.i_crtime, &out.i_crtime_extra);
}

void SetSuperblockParams(ext2_super_block& param, Ext4Geometry geometry) {
  std::memset(&param, 0, sizeof(param));
  ext2fs_blocks_count_set(&param, geometry.blocks);
  param.s_log_block_size = 2;  // 4 KiB
  param.s_rev_level = EXT2_DYNAMIC_REV;
  param.s_inode_size = kInodeSize;
  param.s_inodes_count = static_cast<uint32_t>(geometry.inodes);
  param.s_log_groups_per_flex = 4;
  param.s_min_extra_isize = param.s_want_extra_isize =
      sizeof(ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
  param.s_feature_compat = EXT2_FEATURE_COMPAT_EXT_ATTR | EXT2_FEATURE_COMPAT_DIR_INDEX;
  param.s_feature_incompat = EXT2_FEATURE_INCOMPAT_FILETYPE | EXT3_FEATURE_INCOMPAT_EXTENTS |
                             EXT4_FEATURE_INCOMPAT_64BIT | EXT4_FEATURE_INCOMPAT_FLEX_BG |
                             EXT4_FEATURE_INCOMPAT_CSUM_SEED;
  param.s_feature_ro_compat =
      EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | EXT2_FEATURE_RO_COMPAT_LARGE_FILE |
      EXT4_FEATURE_RO_COMPAT_HUGE_FILE | EXT4_FEATURE_RO_COMPAT_DIR_NLINK |
      EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE | EXT4_FEATURE_RO_COMPAT_METADATA_CSUM;
  if (geometry.cluster_blocks > 1) {
    // ext2fs_initialize then makes each group 32768 clusters.
    param.s_feature_ro_compat |= EXT4_FEATURE_RO_COMPAT_BIGALLOC;
    param.s_log_cluster_size =
        param.s_log_block_size + static_cast<uint32_t>(std::countr_zero(geometry.cluster_blocks));
  }
  param.s_default_mount_opts = EXT2_DEFM_XATTR_USER | EXT2_DEFM_ACL;
  param.s_errors = EXT2_ERRORS_CONTINUE;
  param.s_def_hash_version = EXT2_HASH_HALF_MD4;
}

}  // namespace

Result<Ext4Geometry> ComputeGeometry(const TreeStats& stats, uint64_t size_bytes) {
  Ext4Geometry g;
  // Reserved inodes 1..10, lost+found, plus headroom for estimate slack.
  g.inodes = std::max<uint64_t>(stats.inodes + 16 + stats.inodes / 16, 1024);
  if (g.inodes > UINT32_MAX / 2) return Error("too many inodes for one ext4 image");
  uint64_t content =
      stats.data_blocks + stats.dir_blocks + stats.extent_blocks + kLostFoundBytes / kExt4BlockSize;
  uint64_t itable = g.inodes * kInodeSize / kExt4BlockSize;
  uint64_t groups = (content + itable) / 32768 + 1;
  uint64_t metadata = itable + groups * 4 + 64;
  // 10% + 16 MiB headroom: the file is sparse, so unused blocks cost nothing on the host.
  uint64_t needed = (content + metadata) + (content + metadata) / 10 + 4096;
  needed = (needed + 255) & ~uint64_t{255};
  if (size_bytes == 0) {
    g.blocks = needed;
  } else {
    g.blocks = size_bytes / kExt4BlockSize;
    if (g.blocks < content + metadata)
      return Error(fmt::format("--size {} is too small for this content (needs at least {} bytes)",
                               size_bytes, (content + metadata) * kExt4BlockSize));
  }
  if (g.blocks >= (uint64_t{1} << 32) * 32768) return Error("image too large");
  return g;
}

Result<std::unique_ptr<Ext4Image>> Ext4Image::Create(const std::string& path, Ext4Geometry geometry,
                                                     int64_t fixed_time) {
  if (!std::has_single_bit(geometry.cluster_blocks) || geometry.cluster_blocks > 16)
    return Error("ext4 cluster of " + std::to_string(geometry.cluster_blocks) +
                 " blocks: must be a power of two up to 16");
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return Error::FromErrno("create " + path);
  if (::ftruncate(fd.get(), static_cast<off_t>(geometry.blocks * kExt4BlockSize)) != 0)
    return Error::FromErrno("size " + path);
  fd.Reset();
  VK_TRY(LoadLazyLibrary(vk_lazy_com_err));
  // A variable, not a function: looked up, as no trampoline can stand in for it.
  io_manager* unix_io = VK_TRY(LazyLibraryData<io_manager>(vk_lazy_ext2fs, "unix_io_manager"));
  initialize_ext2_error_table();
  ext2_super_block param;
  SetSuperblockParams(param, geometry);
  ext2_filsys fs = nullptr;
  VK_EXT2(ext2fs_initialize(path.c_str(), EXT2_FLAG_64BITS, &param, *unix_io, &fs),
          "initialize ext4 on " + path);
  std::unique_ptr<Ext4Image> image(new Ext4Image(fs));
  VK_TRY_CTX(image->InitMetadata(fixed_time), "initialize ext4 on " + path);
  return image;
}

Ext4Image::~Ext4Image() {
  if (!closed_) ext2fs_free(fs_);
}

Result<void> Ext4Image::InitMetadata(int64_t fixed_time) {
  ext2_filsys fs = fs_;
  fs->now = static_cast<time_t>(std::max<int64_t>(fixed_time, 1));
  ext2_super_block* sb = fs->super;
  sb->s_mkfs_time = sb->s_lastcheck = sb->s_wtime = static_cast<uint32_t>(fs->now);
  sb->s_max_mnt_count = static_cast<__u16>(-1);
  sb->s_checksum_type = EXT2_CRC32C_CHKSUM;
  sb->s_checksum_seed = kChecksumSeed;
  ext2fs_init_csum_seed(fs);
  ext2fs_r_blocks_count_set(sb, 0);
  VK_EXT2(ext2fs_allocate_tables(fs), "allocate group tables");
  VK_EXT2(ext2fs_convert_subcluster_bitmap(fs, &fs->block_map), "convert block bitmap");
  // The image file is new and sparse, so every inode table already reads as zeros.
  for (dgrp_t group = 0; group < fs->group_desc_count; ++group) {
    ext2fs_bg_flags_set(fs, group, EXT2_BG_INODE_ZEROED);
    ext2fs_group_desc_csum_set(fs, group);
  }
  VK_EXT2(ext2fs_mkdir(fs, EXT2_ROOT_INO, EXT2_ROOT_INO, nullptr), "create root directory");
  for (ext2_ino_t ino = EXT2_ROOT_INO + 1; ino < EXT2_FIRST_INODE(sb); ++ino)
    ext2fs_inode_alloc_stats2(fs, ino, +1, 0);
  ext2fs_mark_inode_bitmap2(fs->inode_map, EXT2_BAD_INO);
  ext2fs_inode_alloc_stats2(fs, EXT2_BAD_INO, +1, 0);
  VK_EXT2(ext2fs_update_bb_inode(fs, nullptr), "write bad-block inode");
  ext2_ino_t lost_found = 0;
  VK_EXT2(ext2fs_new_inode(fs, EXT2_ROOT_INO, LINUX_S_IFDIR | 0700, nullptr, &lost_found),
          "allocate lost+found");
  VK_EXT2(ext2fs_mkdir(fs, EXT2_ROOT_INO, lost_found, nullptr), "create lost+found");
  VK_TRY(Link(EXT2_ROOT_INO, "lost+found", lost_found, FileType::kDirectory));
  ext2_inode inode;
  for (;;) {
    VK_EXT2(ext2fs_read_inode(fs, lost_found, &inode), "read lost+found");
    if (EXT2_I_SIZE(&inode) >= kLostFoundBytes) break;
    VK_EXT2(ext2fs_expand_dir(fs, lost_found), "expand lost+found");
  }
  return Ok();
}

Result<void> Ext4Image::Link(uint32_t parent, const std::string& name, uint32_t ino,
                             FileType type) {
  for (int attempt = 0;; ++attempt) {
    errcode_t code = ext2fs_link(fs_, parent, name.c_str(), ino, DirentType(type));
    if (code == 0) return Ok();
    if (code != EXT2_ET_DIR_NO_SPACE || attempt > 0) return Ext2Error("link " + name, code);
    VK_EXT2(ext2fs_expand_dir(fs_, parent), "grow directory for " + name);
  }
}

Result<void> Ext4Image::WriteTree(FsTree& tree, const DataHook& hook) {
  hook_ = &hook;
  Inode& root = tree.root();
  root.ext4_ino = EXT2_ROOT_INO;
  VK_TRY_CTX(SetMetadata(EXT2_ROOT_INO, root), "/");
  VK_TRY_CTX(SetXattrs(EXT2_ROOT_INO, root), "/");
  std::string path;
  return WriteDir(root, EXT2_ROOT_INO, path, 0);
}

Result<void> Ext4Image::WriteDir(Inode& dir, uint32_t dir_ino, std::string& path, uint32_t depth) {
  for (auto& [name, dentry] : dir.children) {
    size_t saved = path.size();
    path += '/';
    path += name;
    if (dir_ino == EXT2_ROOT_INO && name == "lost+found") {
      if (dentry.inode->type != FileType::kDirectory)
        return Error("/lost+found must be a directory in an ext4 image");
      ext2_ino_t ino = 0;
      VK_EXT2(ext2fs_lookup(fs_, EXT2_ROOT_INO, name.c_str(), name.size(), nullptr, &ino),
              "find lost+found");
      dentry.inode->ext4_ino = ino;
      VK_TRY_CTX(SetMetadata(ino, *dentry.inode), path);
      VK_TRY_CTX(SetXattrs(ino, *dentry.inode), path);
      VK_TRY(WriteDir(*dentry.inode, ino, path, depth + 1));
    } else {
      VK_TRY(CreateEntry(dir_ino, name, *dentry.inode, path, depth));
    }
    path.resize(saved);
  }
  return Ok();
}

Result<void> Ext4Image::CreateEntry(uint32_t parent, const std::string& name, Inode& inode,
                                    std::string& path, uint32_t depth) {
  if (inode.ext4_ino != 0)  // a further hard link
    return Link(parent, name, inode.ext4_ino, inode.type).Context(path);
  uint32_t ino = VK_TRY_CTX(CreateInode(parent, inode), path);
  inode.ext4_ino = ino;
  VK_TRY_CTX(Link(parent, name, ino, inode.type), path);
  VK_TRY_CTX(SetXattrs(ino, inode), path);
  if (inode.type == FileType::kRegular && inode.AllocatedBytes() > 0)
    VK_TRY_CTX((*hook_)(inode, path), path);
  if (inode.type == FileType::kDirectory) VK_TRY(WriteDir(inode, ino, path, depth + 1));
  return Ok();
}

Result<uint32_t> Ext4Image::CreateInode(uint32_t parent, Inode& inode) {
  ext2_ino_t ino = 0;
  uint16_t mode = ModeBits(inode.type) | (inode.permissions & 07777);
  VK_EXT2(ext2fs_new_inode(fs_, parent, mode, nullptr, &ino), "allocate inode (image full?)");
  switch (inode.type) {
    case FileType::kDirectory:
      VK_EXT2(ext2fs_mkdir(fs_, parent, ino, nullptr), "create directory");
      VK_TRY(SetMetadata(ino, inode));
      return ino;
    case FileType::kSymlink:
      VK_EXT2(ext2fs_symlink(fs_, parent, ino, nullptr, inode.symlink_target.c_str()),
              "create symlink");
      VK_TRY(SetMetadata(ino, inode));
      return ino;
    default: break;
  }
  ext2fs_inode_alloc_stats2(fs_, ino, +1, 0);
  ext2_inode_large large{};
  FillInode(inode, large);
  large.i_links_count = static_cast<__u16>(std::max<uint32_t>(inode.nlink, 1));
  if (inode.type == FileType::kCharDev || inode.type == FileType::kBlockDev) {
    uint32_t major = inode.rdev_major, minor = inode.rdev_minor;
    // Old 16-bit encoding when it fits, else the new one (as the kernel reads it).
    if (major < 256 && minor < 256) {
      large.i_block[0] = major * 256 + minor;
    } else {
      large.i_block[1] = (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xffu) << 12);
    }
  }
  if (inode.type == FileType::kRegular) {
    VK_EXT2(ext2fs_inode_size_set(fs_, reinterpret_cast<ext2_inode*>(&large), inode.size),
            "set file size");
    large.i_flags |= EXT4_EXTENTS_FL;
    ext2_extent_handle_t handle = nullptr;  // initializes an empty extent header in i_block
    VK_EXT2(ext2fs_extent_open2(fs_, ino, reinterpret_cast<ext2_inode*>(&large), &handle),
            "init extents");
    ext2fs_extent_free(handle);
  }
  VK_EXT2(ext2fs_write_inode_full(fs_, ino, reinterpret_cast<ext2_inode*>(&large), sizeof(large)),
          "write inode");
  if (inode.type == FileType::kRegular) VK_TRY(AllocateData(ino, inode));
  return ino;
}

Result<void> Ext4Image::AllocateData(uint32_t ino, Inode& inode) {
  if (inode.AllocatedBytes() == 0) return Ok();
  ext2_inode_large large{};
  VK_EXT2(ext2fs_read_inode_full(fs_, ino, reinterpret_cast<ext2_inode*>(&large), sizeof(large)),
          "read inode");
  auto* small = reinterpret_cast<ext2_inode*>(&large);
  auto allocate = [&](uint64_t first, uint64_t end) -> Result<void> {
    VK_EXT2(ext2fs_fallocate(fs_, EXT2_FALLOCATE_FORCE_INIT, ino, small, ~0ULL, first, end - first),
            "allocate data blocks (image full? use a larger --size)");
    return Ok();
  };
  if (inode.sparse.empty()) {
    VK_TRY(allocate(0, (inode.size + kExt4BlockSize - 1) / kExt4BlockSize));
  } else {
    // Regions may share a block at their edges; allocate merged block ranges.
    uint64_t run_first = 0, run_end = 0;
    for (const SparseRegion& region : inode.sparse) {
      if (region.length == 0) continue;
      uint64_t first = region.offset / kExt4BlockSize;
      uint64_t end = (region.offset + region.length + kExt4BlockSize - 1) / kExt4BlockSize;
      if (run_end != 0 && first <= run_end) {
        run_end = std::max(run_end, end);
        continue;
      }
      if (run_end != 0) VK_TRY(allocate(run_first, run_end));
      run_first = first;
      run_end = end;
    }
    if (run_end != 0) VK_TRY(allocate(run_first, run_end));
  }
  VK_EXT2(ext2fs_write_inode_full(fs_, ino, small, sizeof(large)), "write inode");
  return Ok();
}

Result<void> Ext4Image::SetMetadata(uint32_t ino, const Inode& inode) {
  ext2_inode_large large{};
  auto* small = reinterpret_cast<ext2_inode*>(&large);
  VK_EXT2(ext2fs_read_inode_full(fs_, ino, small, sizeof(large)), "read inode");
  uint16_t links = large.i_links_count;
  FillInode(inode, large);
  large.i_links_count = links;
  VK_EXT2(ext2fs_write_inode_full(fs_, ino, small, sizeof(large)), "write inode");
  return Ok();
}

Result<void> Ext4Image::SetXattrs(uint32_t ino, const Inode& inode) {
  if (inode.xattrs.empty()) return Ok();
  ext2_xattr_handle* handle = nullptr;
  VK_EXT2(ext2fs_xattrs_open(fs_, ino, &handle), "open xattrs");
  errcode_t code = ext2fs_xattrs_read(handle);
  for (auto it = inode.xattrs.begin(); code == 0 && it != inode.xattrs.end(); ++it) {
    code = ext2fs_xattr_set(handle, it->first.c_str(), it->second.data(), it->second.size());
    if (code) {
      ext2fs_xattrs_close(&handle);
      return Ext2Error("set xattr " + it->first, code);
    }
  }
  errcode_t close_code = ext2fs_xattrs_close(&handle);
  VK_EXT2(code ? code : close_code, "write xattrs");
  return Ok();
}

Result<DataSink> Ext4Image::OpenData(const Inode& inode) {
  std::vector<DataSink::Extent> extents;
  ext2_extent_handle_t handle = nullptr;
  VK_EXT2(ext2fs_extent_open(fs_, inode.ext4_ino, &handle), "open extents");
  ext2fs_extent extent;
  errcode_t code = ext2fs_extent_get(handle, EXT2_EXTENT_ROOT, &extent);
  while (code == 0) {
    if ((extent.e_flags & EXT2_EXTENT_FLAGS_LEAF) && extent.e_len > 0)
      extents.push_back({extent.e_lblk, extent.e_pblk, extent.e_len});
    code = ext2fs_extent_get(handle, EXT2_EXTENT_NEXT, &extent);
  }
  ext2fs_extent_free(handle);
  if (code != EXT2_ET_EXTENT_NO_NEXT && code != EXT2_ET_EXTENT_NO_DOWN)
    return Ext2Error("read extents", code);
  return DataSink(this, std::move(extents), inode.size);
}

// libext2fs keeps each group's free count in blocks while it allocates (and
// ext2fs_calculate_summary_stats of e2fsprogs 1.47.0 recounts in blocks too),
// but with bigalloc a group descriptor holds free clusters; the superblock
// keeps free blocks. Recounted from the cluster bitmap, as mke2fs does.
void Ext4Image::CountFreeClusters() {
  const uint32_t ratio = EXT2FS_CLUSTER_RATIO(fs_);
  uint64_t free_blocks = 0;
  for (dgrp_t group = 0; group < fs_->group_desc_count; ++group) {
    uint32_t free_clusters = 0;
    const blk64_t last = ext2fs_group_last_block2(fs_, group);
    for (blk64_t block = ext2fs_group_first_block2(fs_, group); block <= last; block += ratio) {
      if (!ext2fs_test_block_bitmap2(fs_->block_map, block)) ++free_clusters;
    }
    ext2fs_bg_free_blocks_count_set(fs_, group, free_clusters);
    ext2fs_group_desc_csum_set(fs_, group);
    free_blocks += uint64_t{free_clusters} * ratio;
  }
  ext2fs_free_blocks_count_set(fs_->super, free_blocks);
}

Result<void> Ext4Image::Close(const Uuid& uuid, const Uuid& hash_seed) {
  if (ext2fs_has_feature_bigalloc(fs_->super)) CountFreeClusters();
  std::memcpy(fs_->super->s_uuid, uuid.data(), uuid.size());
  std::memcpy(fs_->super->s_hash_seed, hash_seed.data(), hash_seed.size());
  ext2fs_mark_super_dirty(fs_);
  closed_ = true;
  VK_EXT2(ext2fs_close_free(&fs_), "write superblocks and bitmaps");
  return Ok();
}

Result<void> DataSink::Write(uint64_t offset, const void* data, size_t length) {
  // guest-controlled: offsets and lengths come from the archive.
  if (offset < last_end_ || length > size_ || offset > size_ - length)
    return Error("file data out of order or beyond the declared size");
  auto* bytes = static_cast<const uint8_t*>(data);
  std::vector<uint8_t>& buf = image_->staging_;
  while (length > 0) {
    if (used_ == 0) base_ = offset / kExt4BlockSize * kExt4BlockSize;
    if (offset >= base_ + buf.size()) {
      VK_TRY(Flush());
      continue;
    }
    size_t n = std::min<uint64_t>(length, base_ + buf.size() - offset);
    std::memcpy(buf.data() + (offset - base_), bytes, n);
    used_ = std::max<uint64_t>(used_, offset - base_ + n);
    offset += n;
    bytes += n;
    length -= n;
    last_end_ = offset;
    if (used_ == buf.size()) VK_TRY(Flush());
  }
  return Ok();
}

Result<void> DataSink::Finish() { return Flush(); }

Result<void> DataSink::Flush() {
  if (used_ == 0) return Ok();
  std::vector<uint8_t>& buf = image_->staging_;
  uint64_t blocks = (used_ + kExt4BlockSize - 1) / kExt4BlockSize;
  // The tail of a last partial block must read as zeros.
  std::memset(buf.data() + used_, 0, blocks * kExt4BlockSize - used_);
  VK_TRY(WriteBlocks(base_ / kExt4BlockSize, blocks, buf.data()));
  std::memset(buf.data(), 0, used_);
  used_ = 0;
  return Ok();
}

Result<void> DataSink::WriteBlocks(uint64_t logical, uint64_t count, const uint8_t* data) {
  auto it = std::upper_bound(extents_.begin(), extents_.end(), logical,
                             [](uint64_t l, const Extent& e) { return l < e.logical; });
  if (it != extents_.begin()) --it;
  uint64_t end = logical + count;
  for (; it != extents_.end() && it->logical < end; ++it) {
    uint64_t first = std::max(logical, it->logical);
    uint64_t last = std::min(end, it->logical + it->length);
    if (first >= last) continue;  // blocks in holes of a sparse file stay unwritten
    errcode_t code = io_channel_write_blk64(image_->fs_->io, it->physical + (first - it->logical),
                                            static_cast<int>(last - first),
                                            data + (first - logical) * kExt4BlockSize);
    if (code) return Ext2Error("write file data", code);
  }
  return Ok();
}

}  // namespace vk::image
