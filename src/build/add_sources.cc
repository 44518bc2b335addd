#include "build/add_sources.h"

#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <map>

#include "base/fd_io.h"
#include "base/unique_fd.h"
#include "image/fs_tree.h"
#include "image/http_client.h"
#include "image/sha256.h"
#include "image/tar_entry.h"
#include "image/tar_stream.h"

namespace vk::build {
namespace {

constexpr int kMaxRedirects = 10;

std::string UrlBaseName(std::string_view url) {
  std::string_view path = url.substr(0, url.find_first_of("?#"));
  size_t scheme = path.find("://");
  if (scheme != std::string_view::npos) path = path.substr(scheme + 3);
  size_t slash = path.find('/');
  path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::string name(path.substr(path.rfind('/') + 1));
  return name.empty() || name == "." || name == ".." ? "__unnamed__" : name;
}

// Streams one GET into `fd`, hashing as it goes; returns the final status
// and Location for redirects.
Result<image::HttpResponse> Fetch(image::HttpClient& client, const std::string& url, int fd,
                                  image::Sha256& sha, uint64_t& size) {
  image::BodySink sink;
  sink.on_headers = [](const image::HttpResponse&) { return Ok(); };
  sink.on_body = [&](const char* data, size_t length) -> Result<void> {
    if (size + length > kMaxDownloadBytes)
      return Error(ErrorKind::kUsage,
                   "ADD " + url + ": larger than " + std::to_string(kMaxDownloadBytes) + " bytes");
    VK_TRY(WriteAll(fd, std::string_view(data, length)));
    sha.Update(data, length);
    size += length;
    return Ok();
  };
  image::HttpRequest request;
  request.url = url;
  return client.Send(request, &sink);
}

// The unpacked tree: each entry normalized like a layer's, so "../x" or an
// absolute name cannot leave the destination.
Result<void> AddArchiveEntries(image::TarStream& stream, const std::string& work_dir,
                               SourceMatch& match) {
  image::FsTree check(image::Limits{});
  std::map<std::string, size_t> index;
  for (uint64_t ordinal = 0;; ++ordinal) {
    archive_entry* entry = VK_TRY(stream.Next());
    if (entry == nullptr) return Ok();
    const char* raw = archive_entry_pathname(entry);
    if (raw == nullptr) continue;
    std::vector<std::string> parts = VK_TRY(check.Normalize(raw));
    if (parts.empty()) continue;
    std::string rel;
    for (const std::string& part : parts) rel += (rel.empty() ? "" : "/") + part;
    image::EntryMeta meta = VK_TRY(image::MetaFromEntry(entry).Context(rel));
    // A Linux symlink has no mode of its own (lstat says 0777): docker
    // unpacks with symlink(2), so its layer says 0777 whatever the archive
    // recorded (0644 from many archivers).
    if (meta.type == image::FileType::kSymlink) meta.permissions = 0777;
    SourceFile file{rel, meta, ""};
    if (meta.type == image::FileType::kRegular) {
      file.host_path = work_dir + "/unpacked-" + std::to_string(ordinal);
      UniqueFd fd(::open(file.host_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      if (!fd) return Error::FromErrno("create " + file.host_path);
      uint64_t offset = 0;
      const void* data = nullptr;
      size_t length = 0;
      while (VK_TRY(stream.ReadBlock(&offset, &data, &length))) {
        if (length > meta.size || offset > meta.size - length)
          return Error(ErrorKind::kUsage, rel + ": archive data beyond the entry's size");
        if (::pwrite(fd.get(), data, length, static_cast<off_t>(offset)) !=
            static_cast<ssize_t>(length))
          return Error::FromErrno("write " + file.host_path);
      }
      if (::ftruncate(fd.get(), static_cast<off_t>(meta.size)) != 0)
        return Error::FromErrno("size " + file.host_path);
    }
    auto it = index.find(rel);  // a later entry of one path replaces the earlier
    if (it != index.end()) {
      match.files[it->second] = std::move(file);
    } else {
      index[rel] = match.files.size();
      match.files.push_back(std::move(file));
    }
  }
}

}  // namespace

bool IsUrl(std::string_view source) {
  return source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0;
}

Result<SourceMatch> DownloadSource(const std::string& url, std::string_view checksum,
                                   const std::string& work_dir) {
  VK_TRY(image::LoadCurl());
  std::string path = work_dir + "/download-XXXXXX";
  UniqueFd created(::mkstemp(path.data()));
  if (!created) return Error::FromErrno("create a file in " + work_dir);
  image::HttpClient client;
  std::string at = url;
  for (int hop = 0;; ++hop) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd) return Error::FromErrno("create " + path);
    image::Sha256 sha;
    uint64_t size = 0;
    image::HttpResponse response =
        VK_TRY(Fetch(client, at, fd.get(), sha, size).Context("ADD " + url));
    if (response.status >= 300 && response.status < 400 && hop < kMaxRedirects) {
      at = VK_TRY(image::ResolveUrl(at, response.Header("location")));
      continue;
    }
    if (response.status < 200 || response.status >= 300)
      return Error(ErrorKind::kUsage, "ADD " + url + ": HTTP " + std::to_string(response.status));
    std::string digest = "sha256:" + image::DigestHex(sha.Final());
    if (!checksum.empty() && checksum != digest)
      return Error(ErrorKind::kUsage, "ADD " + url + ": checksum mismatch: expected " +
                                          std::string(checksum) + ", got " + digest);
    SourceMatch match;
    match.name = UrlBaseName(url);
    image::EntryMeta meta;
    meta.permissions = 0600;
    meta.size = size;
    match.files.push_back(SourceFile{"", meta, path});
    return match;
  }
}

Result<std::optional<SourceMatch>> UnpackArchive(const SourceFile& file,
                                                 const std::string& work_dir) {
  if (file.meta.type != image::FileType::kRegular || file.meta.size == 0)
    return std::optional<SourceMatch>();
  UniqueFd fd(::open(file.host_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::FromErrno("open " + file.host_path);
  auto stream = image::TarStream::Open(fd.get(), file.host_path, image::TarReadMode::kIndex);
  if (!stream.ok()) return std::optional<SourceMatch>();
  SourceMatch match;
  match.directory = true;
  image::EntryMeta root;
  root.type = image::FileType::kDirectory;
  root.permissions = 0755;
  match.files.push_back(SourceFile{"", root, ""});
  auto unpacked = AddArchiveEntries(**stream, work_dir, match);
  // Not a tar at all (its first header does not parse): copied as a file.
  if (!unpacked.ok() && match.files.size() == 1) return std::optional<SourceMatch>();
  VK_TRY(std::move(unpacked).Context("ADD " + file.host_path));
  return std::optional<SourceMatch>(std::move(match));
}

}  // namespace vk::build
