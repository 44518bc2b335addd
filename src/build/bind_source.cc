#include "build/bind_source.h"

#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "base/sparse_copy.h"

namespace vk::build {
namespace {

// A rel path from our index: components that are never empty, "." or "..",
// so the result stays inside the directory it is joined to.
bool SafeRel(const std::string& rel) {
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    std::string_view part(rel.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

std::string ParentOf(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

Result<void> PlaceFile(const SourceFile& file, const std::string& path, bool copy,
                       Sources sources) {
  if (file.host_path.empty())
    return Error(ErrorKind::kInternal, "no host bytes for " + file.rel + " of the bind source");
  const uint32_t mode = file.meta.permissions & 07777;
  if (!copy && ::link(file.host_path.c_str(), path.c_str()) == 0) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return Error::FromErrno("stat " + path);
    if ((st.st_mode & 07777) == mode) return Ok();
    // A link shares the inode: only bytes we extracted may have their mode
    // changed; a context file whose mode changed meanwhile is copied.
    if (sources == Sources::kOurs) {
      if (::chmod(path.c_str(), mode) != 0) return Error::FromErrno("chmod " + path);
      return Ok();
    }
    if (::unlink(path.c_str()) != 0) return Error::FromErrno("remove " + path);
  }
  // Copied for rw, or because the host refused the link (EXDEV: the context
  // may live on another file system).
  VK_TRY(CopySparseFile(file.host_path, path));
  if (::chmod(path.c_str(), mode) != 0) return Error::FromErrno("chmod " + path);
  return Ok();
}

// A directory match's entries below `dir`, directories' modes applied last
// so that a read-only directory does not stop its children being made.
Result<void> LayOutDirectory(const SourceMatch& match, const std::string& dir, bool copy,
                             Sources sources) {
  if (::mkdir(dir.c_str(), 0700) != 0) return Error::FromErrno("create " + dir);
  std::set<std::string> made = {""};
  std::vector<std::pair<std::string, uint32_t>> modes = {
      {dir, match.files.front().meta.permissions}};
  for (size_t i = 1; i < match.files.size(); ++i) {
    const SourceFile& file = match.files[i];
    if (!SafeRel(file.rel) || !made.count(ParentOf(file.rel)))
      return Error(ErrorKind::kImage, "the bind source holds an unusable path: " + file.rel);
    std::string path = dir + "/" + file.rel;
    switch (file.meta.type) {
      case image::FileType::kDirectory:
        if (::mkdir(path.c_str(), 0700) != 0) return Error::FromErrno("create " + path);
        made.insert(file.rel);
        modes.emplace_back(path, file.meta.permissions);
        break;
      case image::FileType::kSymlink:
        if (::symlink(file.meta.symlink_target.c_str(), path.c_str()) != 0)
          return Error::FromErrno("create the symlink " + path);
        break;
      case image::FileType::kRegular: VK_TRY(PlaceFile(file, path, copy, sources)); break;
      default: break;  // devices, fifos, sockets: see the header
    }
  }
  // Children before parents: the deepest paths come last in `modes`.
  for (auto it = modes.rbegin(); it != modes.rend(); ++it)
    if (::chmod(it->first.c_str(), it->second & 07777) != 0)
      return Error::FromErrno("chmod " + it->first);
  return Ok();
}

}  // namespace

Result<void> LayOutBindSource(const SourceMatch& match, const std::string& path, bool copy,
                              Sources sources) {
  const SourceFile& top = match.files.front();
  if (match.directory || top.meta.type == image::FileType::kDirectory)
    return LayOutDirectory(match, path, copy, sources);
  if (top.meta.type != image::FileType::kRegular)
    return Error(ErrorKind::kUsage,
                 "RUN --mount=type=bind: " + match.name + " must be a file or a directory");
  return PlaceFile(top, path, copy, sources);
}

}  // namespace vk::build
