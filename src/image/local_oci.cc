// `oci:DIR[:TAG]` and `oci-archive:FILE[:TAG]` (OCI image-spec, image-layout.md):
// oci-layout + index.json + blobs/sha256/<hex>, as a directory or a tar.
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "image/local_source_internal.h"

namespace vk::image::local {
namespace {

constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";
constexpr std::string_view kBlobPrefix = "blobs/sha256/";
constexpr size_t kCopyBytes = 1 << 20;

// Where the blobs of a layout come from: a directory (copied into the store
// on demand) or an archive that was already streamed into the store.
struct BlobSource {
  // The verified bytes of a small blob (an index or manifest).
  std::function<Result<std::string>(const Descriptor&, size_t)> read;
  // Puts the blob into the store, verified against digest and size.
  std::function<Result<void>(const Descriptor&)> ensure;
};

std::string DigestOf(std::string_view bytes) {
  Sha256 sha;
  sha.Update(bytes);
  return "sha256:" + DigestHex(sha.Final());
}

Result<void> CheckSize(const Descriptor& d, uint64_t actual) {
  if (actual == d.size) return Ok();
  return Error("blob " + d.digest + " is " + std::to_string(actual) +
               " bytes, its descriptor says " + std::to_string(d.size));
}

Result<void> CheckLayoutVersion(std::string_view marker) {
  std::string version;
  try {
    auto root = nlohmann::json::parse(marker);
    auto it = root.find("imageLayoutVersion");
    if (it != root.end() && it->is_string()) version = it->get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    return Error(std::string("oci-layout is not JSON: ") + e.what());
  }
  if (version.empty()) return Error("oci-layout has no \"imageLayoutVersion\"");
  // image-layout.md: 1.0.0 is the only version; minor revisions stay readable.
  if (version.substr(0, 2) != "1.") {
    return Error("unsupported imageLayoutVersion \"" + version + "\" (virtkit reads 1.x)");
  }
  return Ok();
}

std::string ListTags(const Manifest& index) {
  std::string tags;
  for (const Descriptor& d : index.manifests) {
    auto it = d.annotations.find(std::string(kRefNameAnnotation));
    if (it == d.annotations.end()) continue;
    tags += (tags.empty() ? "" : ", ") + it->second;
  }
  return tags.empty() ? "none" : tags;
}

Result<Descriptor> SelectByTag(const Manifest& index, const std::string& tag) {
  if (index.manifests.empty()) return Error("index.json lists no images");
  if (tag.empty()) {
    if (index.manifests.size() == 1) return index.manifests[0];
    return Error("holds " + std::to_string(index.manifests.size()) +
                 " images; add :TAG to pick one (tags: " + ListTags(index) + ")");
  }
  for (const Descriptor& d : index.manifests) {
    auto it = d.annotations.find(std::string(kRefNameAnnotation));
    if (it != d.annotations.end() && it->second == tag) return d;
  }
  return Error("no image tagged \"" + tag + "\" (tags: " + ListTags(index) + ")");
}

struct Resolved {
  Descriptor descriptor;
  std::string body;
  Manifest manifest;
};

Result<Resolved> ReadManifest(const Descriptor& d, const BlobSource& blobs) {
  Resolved out{d, VK_TRY(blobs.read(d, kMaxManifestBytes)), {}};
  out.manifest = VK_TRY(ParseManifest(out.body, d.media_type));
  return out;
}

// The manifest for `platform`, following one level of nested index.
Result<Resolved> ResolveManifest(const Descriptor& chosen, const BlobSource& blobs,
                                 const Platform& platform) {
  Resolved top = VK_TRY(ReadManifest(chosen, blobs));
  if (top.manifest.kind == ManifestKind::kManifest) return top;
  Descriptor child = VK_TRY(SelectPlatform(top.manifest, platform));
  Resolved resolved = VK_TRY(ReadManifest(child, blobs));
  if (resolved.manifest.kind != ManifestKind::kManifest) {
    return Error("index " + child.digest + " nests another index (not supported)");
  }
  return resolved;
}

// Resolves TAG and platform in index.json and stores the image's blobs.
Result<ImageRecord> ImportFromIndex(Store& store, const ImageSource& source,
                                    std::string_view index_json, const BlobSource& blobs,
                                    const Platform& platform) {
  Manifest index = VK_TRY_CTX(ParseManifest(index_json, kOciIndex), "index.json");
  if (index.kind != ManifestKind::kIndex) return Error("index.json is not an image index");
  Descriptor chosen = VK_TRY(SelectByTag(index, source.tag));
  Resolved image = VK_TRY(ResolveManifest(chosen, blobs, platform));
  VK_TRY(store.PutBlob(image.descriptor.digest, image.body));
  const Manifest& manifest = image.manifest;
  VK_TRY(CheckImageSize(manifest, Where(source), VK_TRY(MaxImageSize())));
  VK_TRY(blobs.ensure(manifest.config));
  for (const Descriptor& layer : manifest.layers) VK_TRY(blobs.ensure(layer));
  return RecordImage(store, source, image.descriptor.digest, manifest);
}

// --- oci:DIR ---

Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::FromErrno("open " + path);
  std::string bytes(max_bytes + 1, '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = ::read(fd.get(), bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("read " + path);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > max_bytes)
    return Error(path + " is over the " + std::to_string(max_bytes) + "-byte limit");
  bytes.resize(got);
  return bytes;
}

// The path is built from the validated digest only, never from a file name.
std::string LayoutBlobPath(const std::string& dir, const Descriptor& d) {
  return dir + "/" + std::string(kBlobPrefix) + d.digest.substr(d.digest.find(':') + 1);
}

Result<std::string> ReadLayoutBlob(const std::string& dir, const Descriptor& d, size_t max_bytes) {
  if (!IsValidDigest(d.digest)) return Error("invalid digest " + d.digest);
  if (d.size > max_bytes) {
    return Error("blob " + d.digest + " is over the " + std::to_string(max_bytes) + "-byte limit");
  }
  std::string bytes = VK_TRY(ReadSmallFile(LayoutBlobPath(dir, d), max_bytes));
  VK_TRY(CheckSize(d, bytes.size()));
  std::string actual = DigestOf(bytes);
  if (actual != d.digest) {
    return Error("blob " + d.digest + " does not match its digest (got " + actual +
                 "): the layout is corrupt");
  }
  return bytes;
}

Result<uint64_t> StoredSize(const Store& store, std::string_view digest) {
  struct stat st;
  std::string path = store.BlobPath(digest);
  if (::stat(path.c_str(), &st) != 0) return Error::FromErrno("stat " + path);
  return static_cast<uint64_t>(st.st_size);
}

Result<UniqueFd> OpenLayoutBlob(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::FromErrno("open " + path);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Error::FromErrno("stat " + path);
  if (!S_ISREG(st.st_mode)) return Error(path + " is not a regular file");
  return fd;
}

Result<void> CopyInto(PartialBlob& partial, int fd, const std::string& path, const Descriptor& d) {
  std::vector<uint8_t> buffer(kCopyBytes);
  for (;;) {
    ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("read " + path);
    if (n == 0) return Ok();
    // Stop at the declared size: a huge file must not fill the disk first.
    if (partial.size() + static_cast<uint64_t>(n) > d.size) {
      return Error(path + " is larger than the " + std::to_string(d.size) +
                   " bytes its descriptor says");
    }
    VK_TRY(partial.Append(buffer.data(), static_cast<size_t>(n)));
  }
}

Result<void> CopyLayoutBlob(Store& store, const std::string& dir, const Descriptor& d) {
  FileLock lock = VK_TRY(store.LockBlob(d.digest));
  if (store.HasBlob(d.digest)) return CheckSize(d, VK_TRY(StoredSize(store, d.digest)));
  std::string path = LayoutBlobPath(dir, d);
  UniqueFd fd = VK_TRY(OpenLayoutBlob(path));
  PartialBlob partial = VK_TRY(store.OpenPartial(d.digest, d.size));
  // A partial left by an interrupted pull may hold anything: start clean.
  if (partial.size() > 0) VK_TRY(partial.Restart());
  VK_TRY(CopyInto(partial, fd.get(), path, d));
  VK_TRY(CheckSize(d, partial.size()));
  VK_TRY(partial.Commit());
  return Ok();
}

// --- oci-archive:FILE ---

struct ArchiveLayout {
  std::optional<std::string> marker;  // oci-layout
  std::optional<std::string> index;   // index.json
};

// "blobs/sha256/<64 hex>" -> "sha256:<hex>"; anything else is not a blob.
std::optional<std::string> BlobEntryDigest(std::string_view name) {
  if (name.substr(0, kBlobPrefix.size()) != kBlobPrefix) return std::nullopt;
  std::string digest = "sha256:" + std::string(name.substr(kBlobPrefix.size()));
  if (!IsValidDigest(digest)) return std::nullopt;
  return digest;
}

Result<void> StoreArchiveBlob(Store& store, TarStream& tar, archive_entry* entry,
                              const std::string& digest) {
  FileLock lock = VK_TRY(store.LockBlob(digest));
  if (store.HasBlob(digest)) return Ok();  // the next header skips the data
  if (!archive_entry_size_is_set(entry) || archive_entry_size(entry) < 0)
    return Error("the tar entry has no size");
  // The tar header's size bounds the blob; its descriptor is checked later.
  uint64_t size = static_cast<uint64_t>(archive_entry_size(entry));
  PartialBlob partial = VK_TRY(store.OpenPartial(digest, size));
  if (partial.size() > 0) VK_TRY(partial.Restart());
  VK_TRY(ForEachBlock(
      tar, [&](const void* data, size_t length) { return partial.Append(data, length); }));
  VK_TRY(partial.Commit());
  return Ok();
}

Result<void> ReadLayoutFile(TarStream& tar, archive_entry* entry, std::string_view name,
                            size_t max_bytes, std::optional<std::string>& out) {
  if (out) return Error("the archive holds " + std::string(name) + " twice");
  out = VK_TRY_CTX(ReadEntry(tar, entry, max_bytes), name);
  return Ok();
}

// One pass: the two small files into memory, every blob into the store.
// Other names (directories, "../x", "blobs/sha256/../y") are skipped unread.
Result<ArchiveLayout> StreamOciArchive(Store& store, TarStream& tar) {
  ArchiveLayout layout;
  for (;;) {
    archive_entry* entry = VK_TRY(tar.Next());
    if (entry == nullptr) return layout;
    std::string_view name = RegularEntryName(entry);
    if (name == "index.json") {
      VK_TRY(ReadLayoutFile(tar, entry, name, kMaxManifestBytes, layout.index));
    } else if (name == "oci-layout") {
      VK_TRY(ReadLayoutFile(tar, entry, name, kMaxLayoutFileBytes, layout.marker));
    } else if (auto digest = BlobEntryDigest(name)) {
      VK_TRY_CTX(StoreArchiveBlob(store, tar, entry, *digest), name);
    }
  }
}

Result<void> EnsureStored(const Store& store, const Descriptor& d) {
  if (!store.HasBlob(d.digest)) return Error("blob " + d.digest + " is missing from the archive");
  return CheckSize(d, VK_TRY(StoredSize(store, d.digest)));
}

Result<std::string> ReadStored(const Store& store, const Descriptor& d, size_t max_bytes) {
  VK_TRY(EnsureStored(store, d));
  return store.ReadBlob(d.digest, max_bytes);
}

}  // namespace

Result<ImageRecord> ImportOciLayout(Store& store, const ImageSource& source,
                                    const Platform& platform) {
  const std::string& dir = source.path;
  std::string where = Where(source);
  std::string marker = VK_TRY_CTX(ReadSmallFile(dir + "/oci-layout", kMaxLayoutFileBytes),
                                  where + ": not an OCI image layout directory");
  VK_TRY_CTX(CheckLayoutVersion(marker), where);
  std::string index = VK_TRY_CTX(ReadSmallFile(dir + "/index.json", kMaxManifestBytes), where);
  BlobSource blobs{[&](const Descriptor& d, size_t max) { return ReadLayoutBlob(dir, d, max); },
                   [&](const Descriptor& d) { return CopyLayoutBlob(store, dir, d); }};
  return ImportFromIndex(store, source, index, blobs, platform).Context(where);
}

Result<ImageRecord> ImportOciArchive(Store& store, const ImageSource& source,
                                     const Platform& platform) {
  std::string where = Where(source);
  UniqueFd fd = VK_TRY_CTX(OpenArchiveFile(source.path), where);
  auto tar = VK_TRY_CTX(TarStream::Open(fd.get(), source.path, TarReadMode::kIndex), where);
  ArchiveLayout layout = VK_TRY_CTX(StreamOciArchive(store, *tar), where);
  if (!layout.index || !layout.marker) {
    return Error(where + ": not an OCI archive (no index.json or oci-layout); for `docker save` " +
                 "output use docker-archive:" + source.path);
  }
  VK_TRY_CTX(CheckLayoutVersion(*layout.marker), where);
  BlobSource blobs{[&](const Descriptor& d, size_t max) { return ReadStored(store, d, max); },
                   [&](const Descriptor& d) { return EnsureStored(store, d); }};
  return ImportFromIndex(store, source, *layout.index, blobs, platform).Context(where);
}

}  // namespace vk::image::local
