#include "image/dir_base.h"

#include <unistd.h>

#include "image/build.h"
#include "image/fingerprint.h"
#include "image/sha256.h"

namespace vk::image {

Result<std::string> EnsureDirectoryBase(Store& store, const std::string& dir,
                                        Progress::Style style) {
  // Keyed like an image's base, by a digest: here the fingerprint of the
  // tree (metadata and every file's bytes), which a build of it records too.
  Digest fingerprint = VK_TRY_CTX(FingerprintInputs(InputKind::kDirectory, {dir}, 0), dir);
  const std::string key = "sha256:" + DigestHex(fingerprint);
  const std::string inputs = BaseInputs(key, {});
  if (store.HasBase(key, inputs, Repair::kReportOnly)) return store.BasePath(key);
  FileLock lock = VK_TRY(store.LockBase(key));
  if (store.HasBase(key, inputs, Repair::kRemoveDamaged)) return store.BasePath(key);
  Progress progress(style);
  size_t task = progress.Add("convert " + dir, 0);
  std::string tmp = store.TempPath("base");
  auto built = BuildExt4FromDir(dir, tmp, BuildOptions{});
  if (!built.ok()) {
    ::unlink(tmp.c_str());
    progress.Finish(task, "failed");
    return std::move(built).error().WithContext("convert " + dir + " to ext4");
  }
  std::string path = VK_TRY(store.CommitBase(tmp, key, inputs));
  progress.Finish(task, "ext4 base " + Progress::FormatBytes(built->size_bytes));
  return path;
}

}  // namespace vk::image
