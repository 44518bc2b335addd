#include "build/layer_tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "base/unique_fd.h"
#include "image/fingerprint.h"

namespace vk::build {
namespace {

using EntryPtr = std::unique_ptr<archive_entry, void (*)(archive_entry*)>;

struct WriterCloser {
  void operator()(archive* a) const { archive_write_free(a); }
};
using WriterPtr = std::unique_ptr<archive, WriterCloser>;

Error WriteError(archive* a, std::string_view what) {
  const char* m = archive_error_string(a);
  return Error(ErrorKind::kDisk, "write layer: " + std::string(what) + ": " + (m ? m : "failed"));
}

mode_t TarType(image::FileType type) {
  switch (type) {
    case image::FileType::kRegular: return AE_IFREG;
    case image::FileType::kDirectory: return AE_IFDIR;
    case image::FileType::kSymlink: return AE_IFLNK;
    case image::FileType::kCharDev: return AE_IFCHR;
    case image::FileType::kBlockDev: return AE_IFBLK;
    case image::FileType::kFifo: return AE_IFIFO;
    case image::FileType::kSocket: return AE_IFSOCK;
  }
  return AE_IFREG;
}

EntryPtr MakeEntry(const std::string& path, const image::EntryMeta& m) {
  EntryPtr e(archive_entry_new(), &archive_entry_free);
  std::string name = m.type == image::FileType::kDirectory ? path + "/" : path;
  archive_entry_set_pathname(e.get(), name.c_str());
  archive_entry_set_filetype(e.get(), TarType(m.type));
  archive_entry_set_perm(e.get(), m.permissions & 07777);
  archive_entry_set_uid(e.get(), m.uid);
  archive_entry_set_gid(e.get(), m.gid);
  archive_entry_set_mtime(e.get(), m.mtime_sec, m.mtime_nsec);
  archive_entry_set_size(e.get(),
                         m.type == image::FileType::kRegular ? static_cast<la_int64_t>(m.size) : 0);
  if (m.type == image::FileType::kSymlink)
    archive_entry_set_symlink(e.get(), m.symlink_target.c_str());
  if (m.type == image::FileType::kCharDev || m.type == image::FileType::kBlockDev) {
    archive_entry_set_rdevmajor(e.get(), m.rdev_major);
    archive_entry_set_rdevminor(e.get(), m.rdev_minor);
  }
  for (const auto& [key, value] : m.xattrs)
    archive_entry_xattr_add_entry(e.get(), key.c_str(), value.data(), value.size());
  return e;
}

// Exactly `size` bytes of the host file: a file that shrank since it was
// selected is an error (the layer would not match the cache key).
Result<void> CopyHostFile(archive* a, const std::string& host_path, uint64_t size,
                          const std::string& path) {
  UniqueFd fd(::open(host_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return Error::FromErrno("open " + host_path);
  std::vector<char> buffer(1 << 20);
  uint64_t done = 0;
  while (done < size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), size - done));
    ssize_t n = ::read(fd.get(), buffer.data(), want);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("read " + host_path);
    if (n == 0) return Error(host_path + " changed while the layer was written; build again");
    if (archive_write_data(a, buffer.data(), static_cast<size_t>(n)) < 0)
      return WriteError(a, path);
    done += static_cast<uint64_t>(n);
  }
  return Ok();
}

Result<void> WriteEntry(archive* a, const std::string& path, const LayerEntry& entry) {
  EntryPtr e = MakeEntry(path, entry.meta);
  if (archive_write_header(a, e.get()) != ARCHIVE_OK) return WriteError(a, path);
  if (entry.meta.type != image::FileType::kRegular) return Ok();
  if (entry.data == LayerData::kInline) {
    if (!entry.inline_bytes.empty() &&
        archive_write_data(a, entry.inline_bytes.data(), entry.inline_bytes.size()) < 0)
      return WriteError(a, path);
    return Ok();
  }
  if (entry.data == LayerData::kHostFile)
    return CopyHostFile(a, entry.host_path, entry.meta.size, path);
  return Ok();
}

std::string Parent(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash));
}

}  // namespace

void LayerTar::Add(std::string path, LayerEntry entry) {
  entries_[std::move(path)] = std::move(entry);
}

void LayerTar::AddParents(std::string_view path, int64_t mtime) {
  for (std::string dir = Parent(path); !dir.empty(); dir = Parent(dir)) {
    if (entries_.count(dir)) continue;
    LayerEntry entry;
    entry.meta.type = image::FileType::kDirectory;
    entry.meta.permissions = 0755;
    entry.meta.mtime_sec = mtime;
    entries_.emplace(dir, std::move(entry));
  }
}

void LayerTar::AddWhiteout(std::string_view path) {
  std::string dir = Parent(path);
  std::string name(path.substr(dir.empty() ? 0 : dir.size() + 1));
  LayerEntry entry;
  entry.meta.permissions = 0;
  Add((dir.empty() ? "" : dir + "/") + std::string(kWhiteoutPrefix) + name, std::move(entry));
}

void LayerTar::AddOpaque(std::string_view dir) {
  LayerEntry entry;
  entry.meta.permissions = 0;
  Add(std::string(dir) + "/" + std::string(kOpaqueWhiteout), std::move(entry));
}

Result<void> LayerTar::WriteTo(const std::string& path) const {
  WriterPtr a(archive_write_new());
  if (!a) return Error("libarchive: out of memory");
  archive_write_set_format_pax_restricted(a.get());
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open_filename(a.get(), path.c_str()) != ARCHIVE_OK)
    return WriteError(a.get(), "open " + path);
  for (const auto& [name, entry] : entries_) VK_TRY(WriteEntry(a.get(), name, entry));
  if (archive_write_close(a.get()) != ARCHIVE_OK) return WriteError(a.get(), "close " + path);
  return Ok();
}

Result<LayerBlob> LayerTar::Commit(image::Store& store) const {
  std::string tmp = store.TempPath("layer");
  auto written = WriteTo(tmp);
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return std::move(written).error();
  }
  auto digest = image::DigestFile(tmp);
  struct stat st {};
  if (!digest.ok() || ::stat(tmp.c_str(), &st) != 0) {
    ::unlink(tmp.c_str());
    return Error::FromErrno("hash the layer " + tmp);
  }
  LayerBlob blob{"sha256:" + image::DigestHex(*digest), static_cast<uint64_t>(st.st_size)};
  ::chmod(tmp.c_str(), 0444);
  if (store.HasBlob(blob.digest)) {
    ::unlink(tmp.c_str());
    return blob;
  }
  VK_TRY(store.AdoptBlob(tmp, blob.digest));
  return blob;
}

}  // namespace vk::build
