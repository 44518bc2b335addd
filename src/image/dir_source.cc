#include "image/dir_source.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "base/unique_fd.h"

namespace vk::image {
namespace {

constexpr size_t kChunk = 1 << 20;

FileType TypeOf(mode_t mode) {
  if (S_ISDIR(mode)) return FileType::kDirectory;
  if (S_ISLNK(mode)) return FileType::kSymlink;
  if (S_ISCHR(mode)) return FileType::kCharDev;
  if (S_ISBLK(mode)) return FileType::kBlockDev;
  if (S_ISFIFO(mode)) return FileType::kFifo;
  if (S_ISSOCK(mode)) return FileType::kSocket;
  return FileType::kRegular;
}

Result<void> ReadXattrs(const std::string& path, EntryMeta& meta) {
  char names[8192];
  ssize_t n = ::llistxattr(path.c_str(), names, sizeof(names));
  if (n < 0) return errno == ENOTSUP ? Ok() : Error::FromErrno("list xattrs of " + path);
  for (ssize_t i = 0; i < n;) {
    std::string name(names + i);
    i += static_cast<ssize_t>(name.size()) + 1;
    char value[4096];
    ssize_t size = ::lgetxattr(path.c_str(), name.c_str(), value, sizeof(value));
    if (size < 0) return Error::FromErrno(fmt::format("read xattr {} of {}", name, path));
    meta.xattrs[name].assign(value, static_cast<size_t>(size));
  }
  return Ok();
}

// Data regions of a file with holes (SEEK_DATA/SEEK_HOLE); empty if dense.
Result<std::vector<SparseRegion>> SparseMap(const std::string& path, const struct stat& st) {
  std::vector<SparseRegion> regions;
  if (st.st_size == 0 ||
      static_cast<uint64_t>(st.st_blocks) * 512 >= static_cast<uint64_t>(st.st_size))
    return regions;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return Error::FromErrno("open " + path);
  off_t pos = 0;
  while (pos < st.st_size) {
    off_t data = ::lseek(fd.get(), pos, SEEK_DATA);
    if (data < 0) break;  // ENXIO: only a hole remains
    off_t hole = ::lseek(fd.get(), data, SEEK_HOLE);
    if (hole < 0) hole = st.st_size;
    regions.push_back({static_cast<uint64_t>(data), static_cast<uint64_t>(hole - data)});
    pos = hole;
  }
  if (regions.empty()) regions.push_back({static_cast<uint64_t>(st.st_size), 0});
  return regions;
}

Result<EntryMeta> MetaFromStat(const std::string& path, const struct stat& st) {
  EntryMeta meta;
  meta.type = TypeOf(st.st_mode);
  meta.permissions = st.st_mode & 07777;
  meta.uid = st.st_uid;
  meta.gid = st.st_gid;
  meta.mtime_sec = st.st_mtim.tv_sec;
  meta.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
  if (meta.type == FileType::kRegular) {
    meta.size = static_cast<uint64_t>(st.st_size);
    meta.sparse = VK_TRY(SparseMap(path, st));
  }
  if (meta.type == FileType::kCharDev || meta.type == FileType::kBlockDev) {
    meta.rdev_major = major(st.st_rdev);
    meta.rdev_minor = minor(st.st_rdev);
  }
  if (meta.type == FileType::kSymlink) {
    std::string target(4096, '\0');
    ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
    if (n < 0) return Error::FromErrno("readlink " + path);
    target.resize(static_cast<size_t>(n));
    meta.symlink_target = std::move(target);
  }
  VK_TRY(ReadXattrs(path, meta));
  return meta;
}

struct Walker {
  const std::string& root;
  FsTree& tree;
  std::string prefix;  // where the directory's entries go in the tree ("" for its root)
  std::map<std::pair<dev_t, ino_t>, std::string> links;

  Result<void> Walk(const std::string& rel) {
    std::string host = root + rel;
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(host.c_str()), &::closedir);
    if (!dir) return Error::FromErrno("open directory " + host);
    std::vector<std::string> names;
    while (dirent* d = ::readdir(dir.get())) {
      std::string_view name = d->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) VK_TRY(Visit(rel + "/" + name));
    return Ok();
  }

  Result<void> Visit(const std::string& rel) {
    std::string host = root + rel;
    struct stat st;
    if (::lstat(host.c_str(), &st) != 0) return Error::FromErrno("stat " + host);
    std::string path = prefix.empty() ? rel.substr(1) : prefix + rel;
    if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
      auto [it, inserted] = links.emplace(std::make_pair(st.st_dev, st.st_ino), path);
      if (!inserted) return tree.AddHardLink(path, it->second, 0);
    }
    EntryMeta meta = VK_TRY(MetaFromStat(host, st));
    VK_TRY(tree.Add(path, meta, 0, DataSource{0, 0}));
    if (S_ISDIR(st.st_mode)) VK_TRY(Walk(rel));
    return Ok();
  }
};

void DigestDir(const Inode& dir, const std::string& path, Sha256& sha,
               std::map<const Inode*, std::string>& seen) {
  for (const auto& [name, dentry] : dir.children) {
    const Inode& in = *dentry.inode;
    std::string child = path + "/" + name;
    auto [it, first] = seen.emplace(&in, child);
    std::string line =
        first ? fmt::format("{}\t{}\t{:o}\t{}\t{}\t{}.{}\t{}\t{}\t{}:{}", child,
                            static_cast<int>(in.type), in.permissions, in.uid, in.gid, in.mtime_sec,
                            in.mtime_nsec, in.size, in.symlink_target, in.rdev_major, in.rdev_minor)
              : fmt::format("{}\tlink\t{}", child, it->second);
    sha.Update(std::to_string(line.size()) + ":" + line);
    if (!first) continue;
    for (const SparseRegion& r : in.sparse) sha.Update(fmt::format("s{}+{};", r.offset, r.length));
    for (const auto& [key, value] : in.xattrs)
      sha.Update(fmt::format("x{}:{}={}:", key.size(), key, value.size()) + value);
    if (in.type == FileType::kDirectory) DigestDir(in, child, sha, seen);
  }
}

void VisitData(Inode& dir, std::string& path, std::map<const Inode*, bool>& seen,
               const std::function<void(Inode&, const std::string&)>& fn) {
  for (auto& [name, dentry] : dir.children) {
    Inode& in = *dentry.inode;
    if (!seen.emplace(&in, true).second) continue;
    size_t saved = path.size();
    path += "/" + name;
    if (in.type == FileType::kRegular && in.AllocatedBytes() > 0) fn(in, path);
    if (in.type == FileType::kDirectory) VisitData(in, path, seen, fn);
    path.resize(saved);
  }
}

}  // namespace

Result<void> IndexDirectory(const std::string& dir, FsTree& tree) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return Error::FromErrno("stat " + dir);
  if (!S_ISDIR(st.st_mode)) return Error(dir + " is not a directory");
  EntryMeta root = VK_TRY(MetaFromStat(dir, st));
  VK_TRY(tree.Add(".", root, 0, DataSource{}));
  Walker walker{dir, tree, "", {}};
  return walker.Walk("");
}

Result<void> IndexDirectoryAt(const std::string& dir, const std::string& at, FsTree& tree) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return Error::FromErrno("stat " + dir);
  if (!S_ISDIR(st.st_mode)) return Error(dir + " is not a directory");
  Walker walker{dir, tree, at, {}};
  return walker.Walk("");
}

Digest TreeMetadataDigest(const FsTree& tree) {
  Sha256 sha;
  const Inode& root = tree.root();
  sha.Update(fmt::format("/\t{:o}\t{}\t{}\t{}.{}", root.permissions, root.uid, root.gid,
                         root.mtime_sec, root.mtime_nsec));
  std::map<const Inode*, std::string> seen;
  DigestDir(root, "", sha, seen);
  return sha.Final();
}

void ForEachDataFile(FsTree& tree, const std::function<void(Inode&, const std::string&)>& fn) {
  std::map<const Inode*, bool> seen;
  std::string path;
  VisitData(tree.root(), path, seen, fn);
}

Result<void> CopyHostFile(const std::string& dir, const std::string& path, const Inode& inode,
                          DataSink* sink, Sha256& content) {
  std::string host = dir + path;
  UniqueFd fd(::open(host.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return Error::FromErrno("open " + host);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) != inode.size)
    return Error(host + " changed while the image was being built");
  std::vector<SparseRegion> regions = inode.sparse;
  if (regions.empty()) regions.push_back({0, inode.size});
  std::unique_ptr<uint8_t[]> buf(new uint8_t[kChunk]);
  for (const SparseRegion& region : regions) {
    content.Update(fmt::format("@{}+{}:", region.offset, region.length));
    for (uint64_t done = 0; done < region.length;) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, region.length - done));
      ssize_t n = ::pread(fd.get(), buf.get(), want, static_cast<off_t>(region.offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error::FromErrno("read " + host);
      if (n == 0) return Error(host + " shrank while the image was being built");
      content.Update(buf.get(), static_cast<size_t>(n));
      if (sink) VK_TRY(sink->Write(region.offset + done, buf.get(), static_cast<size_t>(n)));
      done += static_cast<uint64_t>(n);
    }
  }
  return sink ? sink->Finish() : Ok();
}

}  // namespace vk::image
