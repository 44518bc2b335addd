#include "lib/staging.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "base/private_dir.h"
#include "base/remove_tree.h"
#include "lib/errors.h"

namespace virtkit::internal {

Result<StagingDir> StagingDir::Create(const std::string& data_dir, const std::string& vm_name) {
  std::string root = data_dir + "/staging";
  if (auto made = vk::EnsurePrivateDirectory(root); !made.ok()) {
    return FromVk(made.error()).Context("rootfs staging");
  }
  std::string path = root + "/" + vm_name + "-XXXXXX";
  if (::mkdtemp(path.data()) == nullptr) {
    return Error(ErrorKind::kDisk, "rootfs staging: mkdtemp " + path + ": " + std::strerror(errno));
  }
  ::chmod(path.c_str(), 0755);  // the guest's root directory mode
  return StagingDir(std::move(root), std::move(path));
}

StagingDir::StagingDir(StagingDir&& other) noexcept
    : root_(std::move(other.root_)), path_(std::move(other.path_)) {
  other.path_.clear();
}

StagingDir::~StagingDir() {
  if (!path_.empty()) (void)vk::RemoveTreeWithin(root_, path_);
}

}  // namespace virtkit::internal
