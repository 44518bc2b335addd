// Temp files of the image store and who owns them. Each Store holds an
// owner token: tmp/owner-<token> stays flock(2)ed while the process lives,
// and every temp file it makes is named <hint>.<token>.<n>. When the process
// dies (even by SIGKILL) the kernel drops the lock, so a later sweep can tell
// its leftovers from a live writer's without trusting pids, which other pid
// namespaces sharing the store would reuse.
#pragma once

#include <memory>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk::image {

class TempOwner {
 public:
  // Creates and locks tmp_dir/owner-<fresh token>.
  static Result<std::shared_ptr<TempOwner>> Create(const std::string& tmp_dir);
  ~TempOwner();
  TempOwner(const TempOwner&) = delete;
  TempOwner& operator=(const TempOwner&) = delete;

  const std::string& token() const { return token_; }

 private:
  TempOwner(std::string path, std::string token, UniqueFd fd)
      : path_(std::move(path)), token_(std::move(token)), fd_(std::move(fd)) {}
  std::string path_;
  std::string token_;
  UniqueFd fd_;  // holds the flock
};

// Removes the temp files in `tmp_dir` whose owner is gone, and the owner
// files of dead processes. Partial downloads (<hex>.partial) are left to
// resume; Store::Prune ages them out.
void SweepTempDir(const std::string& tmp_dir);

}  // namespace vk::image
