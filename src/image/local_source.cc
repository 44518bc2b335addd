#include "image/local_source.h"

#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <ctime>

#include "image/local_source_internal.h"

namespace vk::image {
namespace local {
namespace {

// "linux/amd64" as the config states it; a config without these fields is
// still importable, so the gap shows as "unknown" rather than an error.
std::string ConfigPlatform(const ImageConfig& config) {
  std::string os = config.os.empty() ? "unknown" : config.os;
  std::string arch = config.architecture.empty() ? "unknown" : config.architecture;
  return os + "/" + arch;
}

}  // namespace

std::string Where(const ImageSource& source) {
  ImageSource bare = source;
  bare.tag.clear();
  return bare.Display();
}

std::string_view RegularEntryName(archive_entry* entry) {
  if (archive_entry_filetype(entry) != AE_IFREG || archive_entry_hardlink(entry) != nullptr) {
    return {};
  }
  const char* raw = archive_entry_pathname(entry);
  std::string_view name = raw ? raw : "";
  if (name.substr(0, 2) == "./") name.remove_prefix(2);
  return name;
}

Result<void> ForEachBlock(TarStream& tar,
                          const std::function<Result<void>(const void*, size_t)>& sink) {
  uint64_t done = 0;
  for (;;) {
    uint64_t offset = 0;
    const void* data = nullptr;
    size_t length = 0;
    if (!VK_TRY(tar.ReadBlock(&offset, &data, &length))) return Ok();
    if (offset != done) return Error("sparse tar entries are not supported");
    VK_TRY(sink(data, length));
    done += length;
  }
}

Result<std::string> ReadEntry(TarStream& tar, archive_entry* entry, size_t max_bytes) {
  std::string too_big = "is over the " + std::to_string(max_bytes) + "-byte limit";
  if (archive_entry_size_is_set(entry) &&
      static_cast<uint64_t>(archive_entry_size(entry)) > max_bytes) {
    return Error(too_big);
  }
  std::string bytes;
  VK_TRY(ForEachBlock(tar, [&](const void* data, size_t length) -> Result<void> {
    if (bytes.size() + length > max_bytes) return Error(too_big);
    bytes.append(static_cast<const char*>(data), length);
    return Ok();
  }));
  return bytes;
}

Result<UniqueFd> OpenArchiveFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::FromErrno("open " + path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Error::FromErrno("stat " + path);
  if (!S_ISREG(st.st_mode)) {
    return Error(path + " is not a regular file (save the archive to a file first)");
  }
  return fd;
}

Result<ImageRecord> RecordImage(Store& store, const ImageSource& source,
                                const std::string& manifest_digest, const Manifest& manifest) {
  std::string config_json =
      VK_TRY_CTX(store.ReadBlob(manifest.config.digest, kMaxConfigBytes), "read image config");
  ImageConfig config = VK_TRY(ParseImageConfig(config_json));
  ImageRecord record;
  record.name = source.Display();
  record.source = source.Display();
  record.manifest_digest = manifest_digest;
  record.config_digest = manifest.config.digest;
  record.size = manifest.config.size;
  for (const Descriptor& layer : manifest.layers) {
    record.layers.push_back(layer.digest);
    record.size += layer.size;
  }
  record.platform = ConfigPlatform(config);
  record.created = static_cast<int64_t>(std::time(nullptr));
  VK_TRY_CTX(store.WriteImage(record), "record image " + record.name);
  return record;
}

}  // namespace local

Result<ImageRecord> ImportLocalImage(Store& store, const ImageSource& source,
                                     const Platform& platform) {
  // Shared with other imports, exclusive with prune: blobs stored below stay
  // unreferenced until the record is written, and prune must not take them.
  FileLock gc = VK_TRY(store.LockForWriting());
  switch (source.kind) {
    case SourceKind::kOciLayout: return local::ImportOciLayout(store, source, platform);
    case SourceKind::kOciArchive: return local::ImportOciArchive(store, source, platform);
    case SourceKind::kDockerArchive: return local::ImportDockerArchive(store, source);
    case SourceKind::kRegistry: break;
  }
  return Error("import " + source.Display() +
               ": not a local source (use oci:, oci-archive: or docker-archive:)");
}

}  // namespace vk::image
