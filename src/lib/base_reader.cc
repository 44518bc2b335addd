#include "lib/base_reader.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <memory>
#include <mutex>

#include "image/ext4_file_reader.h"
#include "image/pull.h"
#include "image/store.h"
#include "lib/errors.h"
#include "lib/in_root.h"

namespace virtkit::internal {
namespace {

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
  auto data = vk::image::ReadExt4File(image, guest_path, kMaxReadBytes);
  if (!data.ok()) return FromVk(data.error());
  return std::move(*data);
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
