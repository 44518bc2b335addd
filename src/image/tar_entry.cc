#include "image/tar_entry.h"

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>

#include <string_view>

namespace vk::image {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kReservedWhiteoutPrefix = ".wh..wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

Result<FileType> TypeOf(archive_entry* entry) {
  switch (archive_entry_filetype(entry)) {
    case AE_IFREG: return FileType::kRegular;
    case AE_IFDIR: return FileType::kDirectory;
    case AE_IFLNK: return FileType::kSymlink;
    case AE_IFCHR: return FileType::kCharDev;
    case AE_IFBLK: return FileType::kBlockDev;
    case AE_IFIFO: return FileType::kFifo;
    case AE_IFSOCK: return FileType::kSocket;
    default: return Error("unsupported entry type");
  }
}

Result<uint32_t> Id(int64_t value, std::string_view what) {
  // 0xffffffff is (uid_t)-1, "no owner", which ext4 cannot store meaningfully.
  if (value < 0 || value >= 0xffffffffLL)
    return Error(fmt::format("{} {} out of range", what, value));
  return static_cast<uint32_t>(value);
}

std::string_view BaseName(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

Result<EntryMeta> MetaFromEntry(archive_entry* entry) {
  EntryMeta meta;
  meta.type = VK_TRY(TypeOf(entry));
  meta.permissions = static_cast<uint32_t>(archive_entry_perm(entry)) & 07777;
  meta.uid = VK_TRY(Id(archive_entry_uid(entry), "uid"));
  meta.gid = VK_TRY(Id(archive_entry_gid(entry), "gid"));
  if (archive_entry_mtime_is_set(entry)) {
    meta.mtime_sec = archive_entry_mtime(entry);
    long nsec = archive_entry_mtime_nsec(entry);
    meta.mtime_nsec = nsec > 0 && nsec < 1'000'000'000 ? static_cast<uint32_t>(nsec) : 0;
  }
  if (meta.type == FileType::kRegular) {
    int64_t size = archive_entry_size(entry);
    if (size < 0) return Error("negative size");
    meta.size = static_cast<uint64_t>(size);
    if (archive_entry_sparse_reset(entry) > 0) {
      la_int64_t offset = 0, length = 0;
      while (archive_entry_sparse_next(entry, &offset, &length) == ARCHIVE_OK) {
        if (offset < 0 || length < 0) return Error("negative sparse region");
        meta.sparse.push_back({static_cast<uint64_t>(offset), static_cast<uint64_t>(length)});
      }
    }
  }
  if (meta.type == FileType::kSymlink) {
    const char* target = archive_entry_symlink(entry);
    if (!target) return Error("symlink without a target");
    meta.symlink_target = target;
  }
  if (meta.type == FileType::kCharDev || meta.type == FileType::kBlockDev) {
    meta.rdev_major = static_cast<uint32_t>(archive_entry_rdevmajor(entry));
    meta.rdev_minor = static_cast<uint32_t>(archive_entry_rdevminor(entry));
    if (meta.rdev_major > 0xfff || meta.rdev_minor > 0xfffff)
      return Error("device number out of range");
  }
  archive_entry_xattr_reset(entry);
  const char* name = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK) {
    if (!name) continue;
    meta.xattrs[name].assign(static_cast<const char*>(value), size);
  }
  return meta;
}

Result<void> ApplyTarEntry(FsTree& tree, archive_entry* entry, uint32_t layer, uint64_t ordinal,
                           Whiteouts whiteouts) {
  const char* raw_path = archive_entry_pathname(entry);
  if (!raw_path) return Error(fmt::format("entry {}: path not readable", ordinal));
  std::string_view path = raw_path;
  if (whiteouts == Whiteouts::kOci) {
    std::string_view base = BaseName(path);
    if (base == kOpaqueMarker ||
        (base.starts_with(kWhiteoutPrefix) && !base.starts_with(kReservedWhiteoutPrefix)))
      return tree.Whiteout(path, layer);
    if (base.starts_with(kReservedWhiteoutPrefix)) return Ok();  // AUFS internals, not content
  }
  if (const char* target = archive_entry_hardlink(entry))
    return tree.AddHardLink(path, target, layer);
  auto meta = MetaFromEntry(entry);
  if (!meta.ok()) return std::move(meta).error().WithContext(path);
  return tree.Add(path, *meta, layer, DataSource{layer, ordinal});
}

Result<void> IndexTar(TarStream& stream, FsTree& tree, uint32_t layer, Whiteouts whiteouts) {
  for (uint64_t ordinal = 0;; ++ordinal) {
    archive_entry* entry = VK_TRY(stream.Next());
    if (!entry) return Ok();
    VK_TRY_CTX(ApplyTarEntry(tree, entry, layer, ordinal, whiteouts), stream.name());
  }
}

}  // namespace vk::image
