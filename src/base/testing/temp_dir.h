// Tests: a fresh directory under $TMPDIR, removed with everything in it when
// the test ends (through RemoveTreeWithin, so nothing outside it is touched).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/remove_tree.h"

namespace vk::testing {

class TempTree {
 public:
  TempTree() {
    parent_ = std::filesystem::temp_directory_path().string();
    std::string pattern = parent_ + "/vk-test-XXXXXX";
    path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : "";
  }
  ~TempTree() {
    if (!path_.empty()) (void)RemoveTreeWithin(parent_, path_);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  // Writes `text` to `name` (relative to the tree); false on failure.
  bool Write(const std::string& name, const std::string& text) const {
    std::ofstream out(path_ + "/" + name, std::ios::binary | std::ios::trunc);
    out << text;
    return static_cast<bool>(out);
  }

 private:
  std::string parent_;
  std::string path_;
};

}  // namespace vk::testing
