#include "build/source_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "base/file_io.h"
#include "base/strings.h"
#include "base/unique_fd.h"
#include "build/path_parts.h"
#include "image/sha256.h"

namespace vk::build {
namespace {

// A .dockerignore is a short list of patterns; this bounds a hostile one.
constexpr uint64_t kMaxIgnoreFileBytes = 1 << 20;

std::string Join(const std::string& dir, const std::string& name) {
  return dir.empty() ? name : dir + "/" + name;
}

std::string BaseName(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? rel : rel.substr(slash + 1);
}

Result<std::vector<std::string>> SortedNames(const std::string& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), &::closedir);
  if (!d) return Error::FromErrno("open directory " + dir);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::string> RealPath(const std::string& path) {
  char buffer[PATH_MAX];
  if (::realpath(path.c_str(), buffer) == nullptr) return Error::FromErrno("resolve " + path);
  return std::string(buffer);
}

Result<void> HashFile(const std::string& path, image::Sha256& sha) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return Error::FromErrno("open " + path);
  std::vector<char> buffer(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("read " + path);
    if (n == 0) return Ok();
    sha.Update(buffer.data(), static_cast<size_t>(n));
  }
}

}  // namespace

bool HasWildcards(std::string_view text) {
  return text.find_first_of("*?[") != std::string_view::npos;
}

Result<image::EntryMeta> HostMeta(const std::string& host_path) {
  struct stat st {};
  if (::lstat(host_path.c_str(), &st) != 0) return Error::FromErrno("stat " + host_path);
  image::EntryMeta meta;
  meta.permissions = st.st_mode & 07777;
  meta.mtime_sec = st.st_mtim.tv_sec;
  meta.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
  switch (st.st_mode & S_IFMT) {
    case S_IFREG:
      meta.type = image::FileType::kRegular;
      meta.size = static_cast<uint64_t>(st.st_size);
      break;
    case S_IFDIR: meta.type = image::FileType::kDirectory; break;
    case S_IFLNK: {
      meta.type = image::FileType::kSymlink;
      std::string target(PATH_MAX, '\0');
      ssize_t n = ::readlink(host_path.c_str(), target.data(), target.size());
      if (n < 0) return Error::FromErrno("readlink " + host_path);
      target.resize(static_cast<size_t>(n));
      meta.symlink_target = std::move(target);
      break;
    }
    case S_IFIFO: meta.type = image::FileType::kFifo; break;
    case S_IFCHR:
    case S_IFBLK:
      meta.type = S_ISCHR(st.st_mode) ? image::FileType::kCharDev : image::FileType::kBlockDev;
      meta.rdev_major = major(st.st_rdev);
      meta.rdev_minor = minor(st.st_rdev);
      break;
    default:
      return Error(ErrorKind::kUsage, host_path + " is a socket: it cannot be copied into a layer");
  }
  return meta;
}

Result<BuildContext> BuildContext::Open(const std::string& root) {
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Error(ErrorKind::kUsage, "build context " + root + " is not a directory");
  std::string real = VK_TRY(RealPath(root));
  DockerIgnore ignore;
  std::string ignore_path = real + "/.dockerignore";
  if (::access(ignore_path.c_str(), F_OK) == 0) {
    auto bytes = VK_TRY(ReadFileBytes(ignore_path, kMaxIgnoreFileBytes));
    ignore = VK_TRY_CTX(DockerIgnore::Parse(std::string_view(
                            reinterpret_cast<const char*>(bytes.data()), bytes.size())),
                        ".dockerignore");
  }
  return BuildContext(std::move(real), std::move(ignore));
}

Result<std::vector<SourceMatch>> BuildContext::Select(std::string_view source) const {
  std::vector<std::string> parts = CleanParts(source);
  std::vector<std::string> rels;
  if (HasWildcards(source)) {
    VK_TRY(Glob(parts, 0, "", rels));
  } else {
    std::string rel;
    for (const std::string& part : parts) rel = Join(rel, part);
    struct stat st {};
    if (::lstat((root_ + "/" + rel).c_str(), &st) == 0) rels.push_back(rel);
  }
  std::vector<SourceMatch> matches;
  for (const std::string& rel : rels) {
    if (!rel.empty() && ignore_.Excluded(rel)) continue;
    matches.push_back(VK_TRY(MatchPath(rel)));
  }
  if (matches.empty())
    return Error(ErrorKind::kUsage,
                 "\"" + std::string(source) +
                     "\" is not in the build context (or .dockerignore excludes it); the "
                     "context is " +
                     root_);
  return matches;
}

Result<void> BuildContext::Glob(const std::vector<std::string>& parts, size_t index,
                                const std::string& rel, std::vector<std::string>& found) const {
  if (index == parts.size()) {
    found.push_back(rel);
    return Ok();
  }
  const std::string& part = parts[index];
  std::string dir = rel.empty() ? root_ : root_ + "/" + rel;
  if (!HasWildcards(part)) {
    struct stat st {};
    if (::lstat((dir + "/" + part).c_str(), &st) == 0)
      VK_TRY(Glob(parts, index + 1, Join(rel, part), found));
    return Ok();
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return Ok();
  for (const std::string& name : VK_TRY(SortedNames(dir))) {
    if (::fnmatch(part.c_str(), name.c_str(), 0) == 0)
      VK_TRY(Glob(parts, index + 1, Join(rel, name), found));
  }
  return Ok();
}

// The source itself is followed when it is a symlink, but only to a target
// inside the context: a link must not pull host files into the image.
Result<SourceMatch> BuildContext::MatchPath(const std::string& rel) const {
  std::string real = VK_TRY(RealPath(rel.empty() ? root_ : root_ + "/" + rel));
  if (real != root_ && real.rfind(root_ + "/", 0) != 0)
    return Error(ErrorKind::kUsage, rel + " points outside the build context");
  SourceMatch match;
  match.name = rel.empty() ? "" : BaseName(rel);
  SourceFile self{"", VK_TRY(HostMeta(real)), real};
  self.meta.uid = self.meta.gid = 0;
  match.directory = self.meta.type == image::FileType::kDirectory;
  match.files.push_back(std::move(self));
  if (match.directory) VK_TRY(Walk(real == root_ ? "" : real.substr(root_.size() + 1), "", match));
  return match;
}

Result<void> BuildContext::Walk(const std::string& rel, const std::string& below,
                                SourceMatch& match) const {
  std::string dir = rel.empty() ? root_ : root_ + "/" + rel;
  for (const std::string& name : VK_TRY(SortedNames(dir))) {
    std::string child = Join(rel, name);
    std::string host = dir + "/" + name;
    image::EntryMeta meta = VK_TRY(HostMeta(host));
    bool is_dir = meta.type == image::FileType::kDirectory;
    if (ignore_.Excluded(child)) {
      // An exception below (!pattern) may re-include something inside.
      if (is_dir && ignore_.MustWalk(child)) VK_TRY(Walk(child, Join(below, name), match));
      continue;
    }
    match.files.push_back(SourceFile{Join(below, name), std::move(meta), host});
    if (is_dir) VK_TRY(Walk(child, Join(below, name), match));
  }
  return Ok();
}

Result<std::string> DigestSources(const std::vector<SourceMatch>& matches) {
  image::Sha256 sha;
  auto field = [&sha](std::string_view text) {
    sha.Update(text);
    sha.Update("\0", 1);
  };
  for (const SourceMatch& match : matches) {
    field(match.name);
    for (const SourceFile& file : match.files) {
      field(file.rel);
      field(image::FileTypeName(file.meta.type));
      field(std::to_string(file.meta.permissions));
      field(std::to_string(file.meta.uid) + ":" + std::to_string(file.meta.gid));
      field(file.meta.symlink_target);
      field(std::to_string(file.meta.rdev_major) + "," + std::to_string(file.meta.rdev_minor));
      if (file.meta.type != image::FileType::kRegular) continue;
      field(std::to_string(file.meta.size));
      image::Sha256 content;
      VK_TRY(HashFile(file.host_path, content));
      field(image::DigestHex(content.Final()));
    }
  }
  return image::DigestHex(sha.Final());
}

}  // namespace vk::build
