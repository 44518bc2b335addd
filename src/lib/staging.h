// The directory rootfs hooks write into (Rootfs::staging_directory()): made
// under the data dir (0700; it may hold keys), handed to the supervisor as
// the RunSpec's layer_dir, and removed once the VM's writable layer is
// built from it.
#pragma once

#include <string>

#include "virtkit/virtkit.h"

namespace virtkit::internal {

class StagingDir {
 public:
  static Result<StagingDir> Create(const std::string& data_dir, const std::string& vm_name);
  StagingDir(StagingDir&& other) noexcept;
  StagingDir& operator=(StagingDir&&) = delete;
  ~StagingDir();
  const std::string& path() const { return path_; }

 private:
  StagingDir(std::string root, std::string path) : root_(std::move(root)), path_(std::move(path)) {}
  std::string root_;  // <data_dir>/staging: what the removal stays inside
  std::string path_;
};

}  // namespace virtkit::internal
