#include "base/remove_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "base/unique_fd.h"

namespace vk {
namespace {

// Bounds the recursion (and so the stack) on a hostile, deeply nested tree.
constexpr int kMaxDepth = 512;

constexpr int kDirectoryFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

Result<std::vector<std::string>> SplitRelative(const std::string& root, const std::string& path) {
  std::string prefix = root;
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  if (path.size() <= prefix.size() + 1 || path.compare(0, prefix.size(), prefix) != 0 ||
      path[prefix.size()] != '/') {
    return Error("refusing to remove " + path + ": it is not inside " + root);
  }
  std::vector<std::string> parts;
  size_t start = prefix.size() + 1;
  while (true) {
    size_t slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? slash : slash - start);
    if (part.empty() || part == "." || part == "..") {
      return Error("refusing to remove " + path + ": '" + part + "' components are not allowed");
    }
    parts.push_back(part);
    if (slash == std::string::npos) return parts;
    start = slash + 1;
  }
}

Result<void> RemoveEntry(int parent, const std::string& name, int depth);

Result<void> EmptyDirectory(int dir, int depth) {
  if (depth > kMaxDepth) return Error("directory tree deeper than " + std::to_string(kMaxDepth));
  int listing_fd = ::dup(dir);
  if (listing_fd < 0) return Error::FromErrno("dup");
  DIR* listing = ::fdopendir(listing_fd);
  if (listing == nullptr) {
    ::close(listing_fd);
    return Error::FromErrno("read directory");
  }
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(listing)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  ::closedir(listing);
  for (const std::string& name : names) VK_TRY(RemoveEntry(dir, name, depth + 1));
  return Ok();
}

Result<void> RemoveEntry(int parent, const std::string& name, int depth) {
  struct stat st {};
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Ok();
    return Error::FromErrno("stat " + name);
  }
  if (S_ISDIR(st.st_mode)) {
    UniqueFd dir(::openat(parent, name.c_str(), kDirectoryFlags));
    if (!dir) return Error::FromErrno("open " + name);
    VK_TRY_CTX(EmptyDirectory(dir.get(), depth), name);
  }
  int flags = S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0;
  if (::unlinkat(parent, name.c_str(), flags) != 0 && errno != ENOENT) {
    return Error::FromErrno("remove " + name);
  }
  return Ok();
}

}  // namespace

Result<RemoveOutcome> RemoveTreeWithin(const std::string& root, const std::string& path) {
  std::vector<std::string> parts = VK_TRY(SplitRelative(root, path));
  UniqueFd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return Error::FromErrno("open " + root);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    UniqueFd next(::openat(dir.get(), parts[i].c_str(), kDirectoryFlags));
    if (!next && errno == ENOENT) return RemoveOutcome::kAbsent;
    if (!next) return Error::FromErrno("refusing to remove " + path + ": open " + parts[i]);
    dir = std::move(next);
  }
  struct stat st {};
  if (::fstatat(dir.get(), parts.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return RemoveOutcome::kAbsent;
    return Error::FromErrno("stat " + path);
  }
  VK_TRY_CTX(RemoveEntry(dir.get(), parts.back(), 0), "remove " + path);
  return RemoveOutcome::kRemoved;
}

}  // namespace vk
