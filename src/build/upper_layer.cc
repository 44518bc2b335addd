#include "build/upper_layer.h"

#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "base/file_io.h"
#include "base/unique_fd.h"
#include "image/ext2_handles.h"

namespace vk::build {
namespace {

constexpr std::string_view kOpaqueXattr = "trusted.overlay.opaque";
constexpr std::string_view kOverlayXattrPrefix = "trusted.overlay.";
constexpr size_t kMaxNameBytes = 255;

struct DirEntry {
  std::string name;
  ext2_ino_t ino;
};

int CollectEntry(ext2_ino_t, int, ext2_dir_entry* dirent, int, int, char*, void* data) {
  auto* out = static_cast<std::vector<DirEntry>*>(data);
  size_t length = dirent->name_len & 0xff;  // the low byte; the high one is the file type
  std::string name(dirent->name, std::min(length, kMaxNameBytes));
  if (name != "." && name != ".." && !name.empty() && name.find('/') == std::string::npos)
    out->push_back({std::move(name), dirent->inode});
  return 0;
}

int CollectXattr(char* name, char* value, size_t length, void* data) {
  auto* out = static_cast<std::map<std::string, std::string>*>(data);
  if (name != nullptr) (*out)[name].assign(value, length);
  return 0;
}

class UpperReader {
 public:
  UpperReader(ext2_filsys fs, const std::string& extract_dir, const UpperReadOptions& options,
              LayerTar& layer)
      : fs_(fs), extract_dir_(extract_dir), options_(options), layer_(layer) {}

  Result<void> Directory(ext2_ino_t dir, const std::string& prefix, uint32_t depth);

 private:
  Result<void> Entry(const DirEntry& entry, const std::string& path, uint32_t depth);
  Result<std::map<std::string, std::string>> Xattrs(ext2_ino_t ino, const std::string& path);
  Result<std::string> ReadData(ext2_ino_t ino, uint64_t size, const std::string& path);
  Result<std::string> SymlinkTarget(ext2_ino_t ino, ext2_inode& inode, const std::string& path);
  bool Skipped(const std::string& path) const {
    return std::find(options_.skip.begin(), options_.skip.end(), path) != options_.skip.end();
  }
  bool Stub(const std::string& path) const {
    return std::find(options_.stubs.begin(), options_.stubs.end(), path) != options_.stubs.end();
  }

  ext2_filsys fs_;
  const std::string& extract_dir_;
  const UpperReadOptions& options_;
  LayerTar& layer_;
  uint64_t entries_ = 0;
};

Result<void> UpperReader::Directory(ext2_ino_t dir, const std::string& prefix, uint32_t depth) {
  if (depth > options_.max_depth)
    return Error(ErrorKind::kDisk, prefix + ": directories nest deeper than " +
                                       std::to_string(options_.max_depth) + " levels");
  std::vector<DirEntry> entries;
  if (errcode_t rc = ext2fs_dir_iterate2(fs_, dir, 0, nullptr, CollectEntry, &entries))
    return image::Ext2Error("read directory /" + prefix, rc);
  std::sort(entries.begin(), entries.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  for (const DirEntry& entry : entries) {
    if (++entries_ > options_.max_entries)
      return Error(ErrorKind::kDisk, "the RUN step made more than " +
                                         std::to_string(options_.max_entries) + " files");
    std::string path = prefix.empty() ? entry.name : prefix + "/" + entry.name;
    VK_TRY(Entry(entry, path, depth));
  }
  return Ok();
}

Result<std::map<std::string, std::string>> UpperReader::Xattrs(ext2_ino_t ino,
                                                               const std::string& path) {
  std::map<std::string, std::string> all;
  ext2_xattr_handle* raw = nullptr;
  if (errcode_t rc = ext2fs_xattrs_open(fs_, ino, &raw))
    return image::Ext2Error("xattrs of " + path, rc);
  image::UniqueExt2Xattrs handle(raw);
  if (errcode_t rc = ext2fs_xattrs_read(raw)) return image::Ext2Error("xattrs of " + path, rc);
  if (errcode_t rc = ext2fs_xattrs_iterate(raw, CollectXattr, &all))
    return image::Ext2Error("xattrs of " + path, rc);
  return all;
}

Result<std::string> UpperReader::ReadData(ext2_ino_t ino, uint64_t size, const std::string& path) {
  std::string out = extract_dir_ + "/" + std::to_string(entries_);
  UniqueFd fd(::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return Error::FromErrno("create " + out);
  ext2_file_t raw = nullptr;
  if (errcode_t rc = ext2fs_file_open(fs_, ino, 0, &raw))
    return image::Ext2Error("open /" + path, rc);
  image::UniqueExt2File file(raw);
  std::vector<char> buffer(1 << 20);
  uint64_t done = 0;
  while (done < size) {
    unsigned int got = 0;
    auto want = static_cast<unsigned int>(std::min<uint64_t>(buffer.size(), size - done));
    if (errcode_t rc = ext2fs_file_read(raw, buffer.data(), want, &got))
      return image::Ext2Error("read /" + path, rc);
    if (got == 0) break;  // holes at the end read as the file's size below
    auto chunk = std::span(reinterpret_cast<const uint8_t*>(buffer.data()), got);
    if (auto written = WriteAllAt(fd.get(), chunk, static_cast<off_t>(done)); !written)
      return std::move(written.error()).WithContext("write " + out);
    done += got;
  }
  if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) return Error::FromErrno("size " + out);
  return out;
}

Result<std::string> UpperReader::SymlinkTarget(ext2_ino_t ino, ext2_inode& inode,
                                               const std::string& path) {
  uint64_t size = EXT2_I_SIZE(&inode);
  if (size == 0 || size > 4095)
    return Error(ErrorKind::kDisk,
                 "/" + path + ": symlink target of " + std::to_string(size) + " bytes");
  if (ext2fs_is_fast_symlink(&inode))
    return std::string(reinterpret_cast<const char*>(inode.i_block),
                       std::min<size_t>(size, sizeof(inode.i_block)));
  std::string data(size, '\0');
  ext2_file_t raw = nullptr;
  if (errcode_t rc = ext2fs_file_open(fs_, ino, 0, &raw))
    return image::Ext2Error("open /" + path, rc);
  image::UniqueExt2File file(raw);
  unsigned int got = 0;
  if (errcode_t rc = ext2fs_file_read(raw, data.data(), static_cast<unsigned int>(size), &got))
    return image::Ext2Error("read /" + path, rc);
  data.resize(got);
  return data;
}

Result<image::FileType> TypeOf(uint16_t mode) {
  if (LINUX_S_ISREG(mode)) return image::FileType::kRegular;
  if (LINUX_S_ISDIR(mode)) return image::FileType::kDirectory;
  if (LINUX_S_ISLNK(mode)) return image::FileType::kSymlink;
  if (LINUX_S_ISCHR(mode)) return image::FileType::kCharDev;
  if (LINUX_S_ISBLK(mode)) return image::FileType::kBlockDev;
  if (LINUX_S_ISFIFO(mode)) return image::FileType::kFifo;
  if (LINUX_S_ISSOCK(mode)) return image::FileType::kSocket;
  return Error(ErrorKind::kDisk, "unknown inode type");
}

// Linux's old (16-bit) and new (32-bit) device encodings in i_block.
void DeviceNumbers(const ext2_inode& inode, uint32_t& major, uint32_t& minor) {
  if (inode.i_block[0] != 0) {
    major = (inode.i_block[0] >> 8) & 0xff;
    minor = inode.i_block[0] & 0xff;
  } else {
    uint32_t dev = inode.i_block[1];
    major = (dev & 0xfff00) >> 8;
    minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
  }
}

Result<void> UpperReader::Entry(const DirEntry& entry, const std::string& path, uint32_t depth) {
  if (Skipped(path)) return Ok();
  ext2_inode_large large{};
  if (errcode_t rc = ext2fs_read_inode_full(fs_, entry.ino, reinterpret_cast<ext2_inode*>(&large),
                                            sizeof(large)))
    return image::Ext2Error("read inode of /" + path, rc);
  ext2_inode& inode = *reinterpret_cast<ext2_inode*>(&large);
  auto type = TypeOf(inode.i_mode);
  if (!type.ok()) return std::move(type).error().WithContext("/" + path);
  LayerEntry out;
  image::EntryMeta& m = out.meta;
  m.type = *type;
  m.permissions = inode.i_mode & 07777;
  m.uid = inode_uid(inode);
  m.gid = inode_gid(inode);
  m.mtime_sec = static_cast<int32_t>(inode.i_mtime);
  if (large.i_extra_isize >= 8) m.mtime_nsec = (large.i_mtime_extra >> 2) % 1'000'000'000;
  if (m.type == image::FileType::kCharDev || m.type == image::FileType::kBlockDev)
    DeviceNumbers(inode, m.rdev_major, m.rdev_minor);
  if (m.type == image::FileType::kCharDev && m.rdev_major == 0 && m.rdev_minor == 0) {
    layer_.AddWhiteout(path);
    return Ok();
  }
  if (m.type == image::FileType::kSocket) return Ok();  // not representable in a layer
  bool opaque = false;
  for (auto& [key, value] : VK_TRY(Xattrs(entry.ino, path))) {
    if (key == kOpaqueXattr) opaque = value == "y";
    if (key.rfind(kOverlayXattrPrefix, 0) == 0 || key.rfind("system.", 0) == 0) continue;
    m.xattrs[key] = value;
  }
  if (m.type == image::FileType::kSymlink)
    m.symlink_target = VK_TRY(SymlinkTarget(entry.ino, inode, path));
  if (m.type == image::FileType::kRegular) {
    m.size = EXT2_I_SIZE(&inode);
    if (m.size > 0) {
      out.data = LayerData::kHostFile;
      out.host_path = VK_TRY(ReadData(entry.ino, m.size, path));
    }
  }
  const bool empty_file = m.type == image::FileType::kRegular && m.size == 0;
  if (empty_file && Stub(path)) return Ok();
  layer_.Add(path, std::move(out));
  if (m.type != image::FileType::kDirectory) return Ok();
  if (opaque) layer_.AddOpaque(path);
  const size_t before = layer_.size();
  VK_TRY(Directory(entry.ino, path, depth + 1));
  if (!opaque && layer_.size() == before && Stub(path)) layer_.Remove(path);
  return Ok();
}

}  // namespace

Result<void> ReadUpperLayer(const std::string& disk, const std::string& extract_dir,
                            const UpperReadOptions& options, LayerTar& layer) {
  image::UniqueExt2Fs fs =
      VK_TRY(image::OpenExt4ForReading(disk, EXT2_FLAG_64BITS, "open the RUN step's disk " + disk));
  ext2_filsys raw = fs.get();
  ext2_ino_t upper = 0;
  errcode_t rc = ext2fs_namei(raw, EXT2_ROOT_INO, EXT2_ROOT_INO, options.upper.c_str(), &upper);
  if (rc == EXT2_ET_FILE_NOT_FOUND || rc == ENOENT) return Ok();
  if (rc) return image::Ext2Error(disk + ": find " + options.upper, rc);
  UpperReader reader(raw, extract_dir, options, layer);
  return reader.Directory(upper, "", 0);
}

}  // namespace vk::build
