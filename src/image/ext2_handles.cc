#include "image/ext2_handles.h"

extern "C" {
#include <et/com_err.h>
}
#include <fmt/format.h>

#include "base/lazy_library.h"

VK_LAZY_LIBRARY(vk_lazy_ext2fs);
VK_LAZY_LIBRARY(vk_lazy_com_err);

namespace vk::image {

Error Ext2Error(std::string_view what, errcode_t code) {
  return Error(ErrorKind::kDisk, fmt::format("{}: {}", what, error_message(code)));
}

Result<UniqueExt2Fs> OpenExt4ForReading(const std::string& path, int flags, std::string_view what) {
  VK_TRY(LoadLazyLibrary(vk_lazy_com_err));
  // A variable, not a function: looked up, as no trampoline can stand in for it.
  io_manager* unix_io = VK_TRY(LazyLibraryData<io_manager>(vk_lazy_ext2fs, "unix_io_manager"));
  ext2_filsys raw = nullptr;
  if (errcode_t rc = ext2fs_open(path.c_str(), flags, 0, 0, *unix_io, &raw)) {
    return Ext2Error(what, rc);
  }
  return UniqueExt2Fs(raw);
}

}  // namespace vk::image
