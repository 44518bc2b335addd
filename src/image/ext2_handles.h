// libext2fs handles owned by RAII types, and its error codes as vk Errors:
// one place for the image writer, the ext4 file reader and the builder's
// reader of a RUN step's upper layer.
#pragma once

#include <ext2fs/ext2fs.h>

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vk::image {

// "what: libext2fs's message", as a disk error.
Error Ext2Error(std::string_view what, errcode_t code);

struct Ext2FsCloser {
  void operator()(ext2_filsys fs) const { ext2fs_close_free(&fs); }
};
struct Ext2FileCloser {
  void operator()(ext2_file_t file) const { ext2fs_file_close(file); }
};
struct Ext2XattrsCloser {
  void operator()(ext2_xattr_handle* handle) const { ext2fs_xattrs_close(&handle); }
};
using UniqueExt2Fs = std::unique_ptr<struct_ext2_filsys, Ext2FsCloser>;
using UniqueExt2File = std::unique_ptr<ext2_file, Ext2FileCloser>;
using UniqueExt2Xattrs = std::unique_ptr<ext2_xattr_handle, Ext2XattrsCloser>;

// Opens an existing ext4 image through libext2fs (bound on first use) for
// reading; `what` names it in the error ("open the RUN step's disk X").
Result<UniqueExt2Fs> OpenExt4ForReading(const std::string& path, int flags, std::string_view what);

}  // namespace vk::image
