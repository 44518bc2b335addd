#include "lib/base_reader.h"

extern "C" {
#include <et/com_err.h>
}
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <memory>
#include <mutex>

#include "image/pull.h"
#include "image/store.h"
#include "lib/errors.h"
#include "lib/in_root.h"

namespace virtkit::internal {
namespace {

Error Ext2Error(std::string what, errcode_t code) {
  return Error(ErrorKind::kDisk, what + ": " + error_message(code));
}

struct FsCloser {
  void operator()(ext2_filsys fs) const { ext2fs_close_free(&fs); }
};

Result<std::string> ReadInode(ext2_filsys fs, ext2_ino_t ino, std::string_view guest_path) {
  ext2_inode inode{};
  if (errcode_t rc = ext2fs_read_inode(fs, ino, &inode)) {
    return Ext2Error(std::string(guest_path), rc);
  }
  if (!LINUX_S_ISREG(inode.i_mode)) {
    return Error(ErrorKind::kUsage, std::string(guest_path) + " is not a regular file");
  }
  ext2_file_t file = nullptr;
  if (errcode_t rc = ext2fs_file_open(fs, ino, 0, &file)) {
    return Ext2Error(std::string(guest_path), rc);
  }
  std::unique_ptr<ext2_file, decltype(&ext2fs_file_close)> closer(file, &ext2fs_file_close);
  __u64 size = 0;
  ext2fs_file_get_lsize(file, &size);
  if (size > kMaxReadBytes) {
    return Error(ErrorKind::kUsage, std::string(guest_path) + " is too large to read");
  }
  std::string data(size, '\0');
  size_t done = 0;
  while (done < size) {
    unsigned int got = 0;
    if (errcode_t rc = ext2fs_file_read(file, data.data() + done,
                                        static_cast<unsigned int>(size - done), &got)) {
      return Ext2Error(std::string(guest_path), rc);
    }
    if (got == 0) break;
    done += got;
  }
  data.resize(done);
  return data;
}

Result<std::string> ReadDirectoryFile(const std::string& dir, std::string_view guest_path) {
  int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error(ErrorKind::kNotFound, "rootfs directory " + dir + " not found");
  vk::UniqueFd root(fd);
  auto file = OpenInRoot(fd, guest_path, O_RDONLY);
  if (!file) return file.error();
  return ReadAll(file->get(), guest_path, kMaxReadBytes);
}

Result<std::string> ImageBase(const std::string& image, const std::string& data_dir) {
  auto root =
      data_dir.empty() ? vk::image::Store::DefaultRoot() : vk::Result<std::string>(data_dir);
  if (!root.ok()) return FromVk(root.error());
  auto store = vk::image::Store::Open(*root);
  if (!store.ok()) return FromVk(store.error());
  vk::image::PullOptions pull;
  pull.progress = vk::Progress::Style::kQuiet;
  auto record = vk::image::ResolveImage(*store, image, vk::image::PullPolicy::kMissing, pull);
  if (!record.ok()) return FromVk(std::move(record).WithKind(vk::ErrorKind::kImage).error());
  auto base = vk::image::EnsureBase(*store, *record, vk::Progress::Style::kQuiet);
  if (!base.ok()) return FromVk(base.error());
  return *base;
}

}  // namespace

Result<std::string> ReadExt4File(const std::string& image, std::string_view guest_path) {
  ext2_filsys raw = nullptr;
  if (errcode_t rc = ext2fs_open(image.c_str(), 0, 0, 0, unix_io_manager, &raw)) {
    return Ext2Error("open ext4 " + image, rc);
  }
  std::unique_ptr<struct_ext2_filsys, FsCloser> fs(raw);
  ext2_ino_t ino = 0;
  std::string path(guest_path);
  errcode_t rc = ext2fs_namei_follow(raw, EXT2_ROOT_INO, EXT2_ROOT_INO, path.c_str(), &ino);
  if (rc == EXT2_ET_FILE_NOT_FOUND || rc == ENOENT || rc == ENOTDIR) {
    return Error(ErrorKind::kNotFound, path + ": no such file in the rootfs");
  }
  if (rc) return Ext2Error(path, rc);
  return ReadInode(raw, ino, guest_path);
}

BaseReader MakeBaseReader(std::string image, std::string rootfs_path, std::string data_dir) {
  if (!rootfs_path.empty()) {
    struct stat st {};
    const bool is_dir = ::stat(rootfs_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    return [is_dir, rootfs_path](std::string_view guest_path) -> Result<std::string> {
      return is_dir ? ReadDirectoryFile(rootfs_path, guest_path)
                    : ReadExt4File(rootfs_path, guest_path);
    };
  }
  // The pull happens on the first read only: hooks that only write never pay it.
  struct Lazy {
    std::once_flag once;
    std::optional<Result<std::string>> base;
  };
  auto lazy = std::make_shared<Lazy>();
  return [lazy, image, data_dir](std::string_view guest_path) -> Result<std::string> {
    std::call_once(lazy->once, [&] { lazy->base.emplace(ImageBase(image, data_dir)); });
    if (!*lazy->base) return lazy->base->error().Context("read the base of " + image);
    return ReadExt4File(lazy->base->value(), guest_path);
  };
}

}  // namespace virtkit::internal
