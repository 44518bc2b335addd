// FlattenLayersToTar (declared in build.h): the flattened tree as one tar.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <unordered_map>

#include "base/unique_fd.h"
#include "image/build.h"
#include "image/dir_source.h"
#include "image/tar_entry.h"
#include "image/tar_stream.h"

namespace vk::image {
namespace {

using EntryPtr = std::unique_ptr<archive_entry, void (*)(archive_entry*)>;

class TarWriter {
 public:
  explicit TarWriter(archive* a) : a_(a) {}
  ~TarWriter() { archive_write_free(a_); }
  archive* get() { return a_; }
  Error Fail(std::string_view what) {
    const char* m = archive_error_string(a_);
    return Error(fmt::format("write tar: {}: {}", what, m ? m : "failed"));
  }

 private:
  archive* a_;
};

mode_t ModeOf(FileType type) {
  switch (type) {
    case FileType::kRegular: return AE_IFREG;
    case FileType::kDirectory: return AE_IFDIR;
    case FileType::kSymlink: return AE_IFLNK;
    case FileType::kCharDev: return AE_IFCHR;
    case FileType::kBlockDev: return AE_IFBLK;
    case FileType::kFifo: return AE_IFIFO;
    case FileType::kSocket: return AE_IFSOCK;
  }
  return AE_IFREG;
}

EntryPtr MakeEntry(const Inode& in, const std::string& path) {
  EntryPtr e(archive_entry_new(), &archive_entry_free);
  archive_entry_set_pathname(e.get(), path.c_str());
  archive_entry_set_filetype(e.get(), ModeOf(in.type));
  archive_entry_set_perm(e.get(), in.permissions);
  archive_entry_set_uid(e.get(), in.uid);
  archive_entry_set_gid(e.get(), in.gid);
  archive_entry_set_mtime(e.get(), in.mtime_sec, in.mtime_nsec);
  if (in.type == FileType::kRegular)
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(in.size));
  if (in.type == FileType::kSymlink) archive_entry_set_symlink(e.get(), in.symlink_target.c_str());
  if (in.type == FileType::kCharDev || in.type == FileType::kBlockDev) {
    archive_entry_set_rdevmajor(e.get(), in.rdev_major);
    archive_entry_set_rdevminor(e.get(), in.rdev_minor);
  }
  for (const SparseRegion& r : in.sparse)
    archive_entry_sparse_add_entry(e.get(), static_cast<la_int64_t>(r.offset),
                                   static_cast<la_int64_t>(r.length));
  for (const auto& [name, value] : in.xattrs)
    archive_entry_xattr_add_entry(e.get(), name.c_str(), value.data(), value.size());
  return e;
}

struct Plan {
  std::vector<std::pair<const Inode*, std::string>> first;      // non-data entries
  std::unordered_map<const Inode*, std::string> data_paths;     // files with data
  std::vector<std::pair<std::string, std::string>> hard_links;  // path -> first path
};

void PlanDir(const Inode& dir, const std::string& prefix, Plan& plan,
             std::unordered_map<const Inode*, std::string>& seen) {
  for (const auto& [name, dentry] : dir.children) {
    const Inode& in = *dentry.inode;
    std::string path = prefix + name;
    auto [it, first] = seen.emplace(&in, path);
    if (!first) {
      plan.hard_links.emplace_back(path, it->second);
      continue;
    }
    if (in.type == FileType::kRegular && in.AllocatedBytes() > 0)
      plan.data_paths.emplace(&in, path);
    else
      plan.first.emplace_back(&in, in.type == FileType::kDirectory ? path + "/" : path);
    if (in.type == FileType::kDirectory) PlanDir(in, path + "/", plan, seen);
  }
}

Result<void> WriteHeader(TarWriter& w, archive_entry* e, const std::string& path) {
  if (archive_write_header(w.get(), e) != ARCHIVE_OK) return w.Fail(path);
  return Ok();
}

// libarchive's tar writer takes a file's full logical contents and drops the
// bytes that fall in holes of the header's sparse map, so holes are fed as
// zeros from one shared buffer (no per-byte work beyond libarchive's skip).
Result<void> FeedZeros(TarWriter& w, uint64_t from, uint64_t to, const std::string& path) {
  static const std::vector<char> kZeros(1 << 20);
  while (from < to) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(kZeros.size(), to - from));
    if (archive_write_data(w.get(), kZeros.data(), n) < 0) return w.Fail(path);
    from += n;
  }
  return Ok();
}

Result<void> CopyData(TarStream& in, TarWriter& w, const Inode& inode, const std::string& path) {
  uint64_t offset, position = 0;
  const void* data;
  size_t length;
  while (VK_TRY(in.ReadBlock(&offset, &data, &length))) {
    if (offset < position || length > inode.size || offset > inode.size - length)
      return Error(path + ": file data out of order or beyond the declared size");
    VK_TRY(FeedZeros(w, position, offset, path));
    if (length && archive_write_data(w.get(), data, length) < 0) return w.Fail(path);
    position = offset + length;
  }
  return FeedZeros(w, position, inode.size, path);
}

Result<void> WriteLayerData(int fd, const std::string& name, uint32_t layer, const Plan& plan,
                            TarWriter& w,
                            const std::unordered_map<uint64_t, const Inode*>& wanted) {
  auto stream = VK_TRY(TarStream::Open(fd, name, TarReadMode::kIndex));
  for (uint64_t ordinal = 0;; ++ordinal) {
    archive_entry* entry = VK_TRY(stream->Next());
    if (!entry) return Ok();
    auto it = wanted.find(ordinal);
    if (it == wanted.end()) continue;
    const std::string& path = plan.data_paths.at(it->second);
    EntryPtr out = MakeEntry(*it->second, path);
    VK_TRY(WriteHeader(w, out.get(), path));
    VK_TRY_CTX(CopyData(*stream, w, *it->second, path), fmt::format("layer {}", layer));
  }
}

}  // namespace

Result<void> FlattenLayersToTar(const std::vector<std::string>& layers, const std::string& output,
                                const Limits& limits) {
  std::vector<UniqueFd> fds;
  FsTree tree(limits);
  for (uint32_t i = 0; i < layers.size(); ++i) {
    fds.emplace_back(::open(layers[i].c_str(), O_RDONLY | O_CLOEXEC));
    if (!fds.back()) return Error::FromErrno("open " + layers[i]);
    auto stream = VK_TRY(TarStream::Open(fds.back().get(), layers[i], TarReadMode::kIndex));
    VK_TRY(IndexTar(*stream, tree, i, Whiteouts::kOci));
  }
  tree.Finalize();
  Plan plan;
  std::unordered_map<const Inode*, std::string> seen;
  plan.first.emplace_back(&tree.root(), "./");
  PlanDir(tree.root(), "", plan, seen);
  std::vector<std::unordered_map<uint64_t, const Inode*>> wanted(layers.size());
  for (const auto& [inode, path] : plan.data_paths)
    wanted[inode->source.input][inode->source.ordinal] = inode;

  std::string temp = fmt::format("{}.tmp-{}", output, ::getpid());
  TarWriter w(archive_write_new());
  archive_write_set_format_pax_restricted(w.get());
  archive_write_set_bytes_in_last_block(w.get(), 1);
  if (archive_write_open_filename(w.get(), temp.c_str()) != ARCHIVE_OK)
    return w.Fail("open " + temp);
  auto write_all = [&]() -> Result<void> {
    for (const auto& [inode, path] : plan.first)
      VK_TRY(WriteHeader(w, MakeEntry(*inode, path).get(), path));
    for (uint32_t i = 0; i < layers.size(); ++i)
      VK_TRY(WriteLayerData(fds[i].get(), layers[i], i, plan, w, wanted[i]));
    for (const auto& [path, target] : plan.hard_links) {
      EntryPtr e(archive_entry_new(), &archive_entry_free);
      archive_entry_set_pathname(e.get(), path.c_str());
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_hardlink(e.get(), target.c_str());
      VK_TRY(WriteHeader(w, e.get(), path));
    }
    if (archive_write_close(w.get()) != ARCHIVE_OK) return w.Fail("close");
    if (::rename(temp.c_str(), output.c_str()) != 0) return Error::FromErrno("rename " + temp);
    return Ok();
  };
  Result<void> status = write_all();
  if (!status.ok()) ::unlink(temp.c_str());
  return status;
}

}  // namespace vk::image
