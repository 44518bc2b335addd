#include "image/ext4_file_reader.h"

#include <ext2fs/ext2fs.h>

#include <algorithm>

#include "image/ext2_handles.h"

namespace vk::image {
namespace {

Result<std::string> ReadInode(ext2_filsys fs, ext2_ino_t ino, const std::string& path,
                              size_t max_bytes) {
  ext2_inode inode{};
  if (errcode_t rc = ext2fs_read_inode(fs, ino, &inode)) return Ext2Error(path, rc);
  if (!LINUX_S_ISREG(inode.i_mode)) {
    return Error(ErrorKind::kUsage, path + " is not a regular file");
  }
  ext2_file_t raw = nullptr;
  if (errcode_t rc = ext2fs_file_open(fs, ino, 0, &raw)) return Ext2Error(path, rc);
  UniqueExt2File file(raw);
  __u64 size = 0;
  ext2fs_file_get_lsize(raw, &size);
  if (size > max_bytes) return Error(ErrorKind::kUsage, path + " is too large to read");
  std::string data(size, '\0');
  size_t done = 0;
  while (done < size) {
    unsigned int got = 0;
    unsigned int want = static_cast<unsigned int>(std::min<__u64>(size - done, 1u << 30));
    if (errcode_t rc = ext2fs_file_read(raw, data.data() + done, want, &got)) {
      return Ext2Error(path, rc);
    }
    if (got == 0) break;  // a file shorter than its recorded size: what there is
    done += got;
  }
  data.resize(done);
  return data;
}

}  // namespace

Result<std::string> ReadExt4File(const std::string& image_path, std::string_view guest_path,
                                 size_t max_bytes) {
  UniqueExt2Fs fs = VK_TRY(OpenExt4ForReading(image_path, 0, "open ext4 " + image_path));
  ext2_filsys raw = fs.get();
  std::string path(guest_path);
  ext2_ino_t ino = 0;
  errcode_t rc = ext2fs_namei_follow(raw, EXT2_ROOT_INO, EXT2_ROOT_INO, path.c_str(), &ino);
  if (rc == EXT2_ET_FILE_NOT_FOUND || rc == ENOENT || rc == ENOTDIR) {
    return Error(ErrorKind::kNotFound, path + ": no such file in the rootfs");
  }
  if (rc) return Ext2Error(path, rc);
  return ReadInode(raw, ino, path, max_bytes);
}

}  // namespace vk::image
