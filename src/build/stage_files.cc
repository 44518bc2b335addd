#include "build/stage_files.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <map>

#include "base/strings.h"
#include "base/unique_fd.h"
#include "build/path_parts.h"
#include "image/tar_entry.h"
#include "image/tar_stream.h"

namespace vk::build {
namespace {

// Symlinks followed while resolving one path (Linux's MAXSYMLINKS).
constexpr int kMaxSymlinkHops = 40;

std::vector<std::string> PathParts(std::string_view path) {
  std::vector<std::string> parts;
  for (const std::string& part : Split(path, '/'))
    if (!part.empty() && part != ".") parts.push_back(part);
  return parts;
}

image::EntryMeta MetaOf(const image::Inode& in) {
  image::EntryMeta m;
  m.type = in.type;
  m.permissions = in.permissions;
  m.uid = in.uid;
  m.gid = in.gid;
  m.mtime_sec = in.mtime_sec;
  m.mtime_nsec = in.mtime_nsec;
  m.size = in.size;
  m.symlink_target = in.symlink_target;
  m.rdev_major = in.rdev_major;
  m.rdev_minor = in.rdev_minor;
  m.xattrs = in.xattrs;
  return m;
}

void AddSubtree(const image::Inode& dir, const std::string& below, SourceMatch& match,
                std::vector<const image::Inode*>& inodes) {
  for (const auto& [name, dentry] : dir.children) {
    std::string rel = below.empty() ? name : below + "/" + name;
    match.files.push_back(SourceFile{rel, MetaOf(*dentry.inode), ""});
    inodes.push_back(dentry.inode.get());
    if (dentry.inode->type == image::FileType::kDirectory)
      AddSubtree(*dentry.inode, rel, match, inodes);
  }
}

// Writes the data of the current tar entry into `fd` (holes stay holes).
Result<void> CopyEntryData(image::TarStream& stream, int fd, uint64_t size) {
  uint64_t offset = 0;
  const void* data = nullptr;
  size_t length = 0;
  while (VK_TRY(stream.ReadBlock(&offset, &data, &length))) {
    if (length > size || offset > size - length)
      return Error(ErrorKind::kImage, "layer file data beyond its declared size");
    const char* bytes = static_cast<const char*>(data);
    for (size_t done = 0; done < length;) {
      ssize_t n = ::pwrite(fd, bytes + done, length - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error::FromErrno("write extracted file");
      done += static_cast<size_t>(n);
    }
  }
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0)
    return Error::FromErrno("size extracted file");
  return Ok();
}

}  // namespace

StageFiles::StageFiles(std::vector<std::string> layers)
    : layers_(std::move(layers)), tree_(image::Limits{}) {}

Result<std::unique_ptr<StageFiles>> StageFiles::Index(std::vector<std::string> layers) {
  std::unique_ptr<StageFiles> files(new StageFiles({}));
  for (const std::string& layer : layers) VK_TRY(files->AddLayer(layer));
  return files;
}

Result<void> StageFiles::AddLayer(const std::string& layer) {
  auto index = static_cast<uint32_t>(layers_.size());
  layers_.push_back(layer);
  UniqueFd fd(::open(layer.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::FromErrno("open layer " + layer);
  auto stream = VK_TRY(image::TarStream::Open(fd.get(), layer, image::TarReadMode::kIndex));
  return image::IndexTar(*stream, tree_, index, image::Whiteouts::kOci);
}

Result<std::vector<std::string>> StageFiles::ResolveParts(std::string_view path, Last last) {
  std::vector<std::string> pending = PathParts(path), done;
  int hops = 0;
  while (!pending.empty()) {
    std::string part = pending.front();
    pending.erase(pending.begin());
    if (part == "..") {
      if (!done.empty()) done.pop_back();
      continue;
    }
    done.push_back(part);
    const image::Inode* in = tree_.Find(JoinParts(done));
    if (in == nullptr || in->type != image::FileType::kSymlink) continue;
    if (pending.empty() && last == Last::kNoFollow) continue;
    if (++hops > kMaxSymlinkHops)
      return Error(ErrorKind::kUsage, std::string(path) + ": too many levels of symbolic links");
    done.pop_back();
    std::vector<std::string> target = PathParts(in->symlink_target);
    if (!in->symlink_target.empty() && in->symlink_target[0] == '/') done.clear();
    target.insert(target.end(), pending.begin(), pending.end());
    pending = std::move(target);
  }
  return done;
}

const image::Inode* StageFiles::Lookup(std::string_view path, Last last) {
  auto parts = ResolveParts(path, last);
  if (!parts.ok()) return nullptr;
  return parts->empty() ? &tree_.root() : tree_.Find(JoinParts(*parts));
}

std::string StageFiles::Resolve(std::string_view path) {
  auto parts = ResolveParts(path, Last::kFollow);
  return parts.ok() ? JoinParts(*parts) : JoinParts(PathParts(path));
}

std::vector<std::string> StageFiles::MissingPaths(std::string_view path) {
  std::vector<std::string> parts = CleanParts(Resolve(path)), missing;
  for (size_t n = 1; n <= parts.size(); ++n) {
    std::string prefix = JoinParts({parts.begin(), parts.begin() + static_cast<ptrdiff_t>(n)});
    if (tree_.Find(prefix) == nullptr) missing.push_back(prefix);
  }
  return missing;
}

void StageFiles::Glob(const std::vector<std::string>& parts, size_t index,
                      std::vector<std::string>& at, std::vector<std::vector<std::string>>& found) {
  if (index == parts.size()) {
    found.push_back(at);
    return;
  }
  const image::Inode* dir = at.empty() ? &tree_.root() : tree_.Find(JoinParts(at));
  if (dir == nullptr || dir->type != image::FileType::kDirectory) return;
  for (const auto& [name, dentry] : dir->children) {
    if (::fnmatch(parts[index].c_str(), name.c_str(), 0) != 0) continue;
    at.push_back(name);
    Glob(parts, index + 1, at, found);
    at.pop_back();
  }
}

Result<std::vector<SourceMatch>> StageFiles::Select(std::string_view source,
                                                    const std::string& extract_dir) {
  std::vector<std::vector<std::string>> found;
  if (HasWildcards(source)) {
    std::vector<std::string> at;
    Glob(PathParts(source), 0, at, found);
  } else if (Lookup(source) != nullptr) {
    found.push_back(VK_TRY(ResolveParts(source, Last::kFollow)));
  }
  if (found.empty())
    return Error(ErrorKind::kUsage, "\"" + std::string(source) + "\" not found in the stage");
  std::vector<SourceMatch> matches;
  std::vector<std::vector<const image::Inode*>> inodes;  // parallel to each match's files
  for (const std::vector<std::string>& parts : found) {
    const image::Inode* in = parts.empty() ? &tree_.root() : tree_.Find(JoinParts(parts));
    if (in == nullptr) continue;
    SourceMatch match;
    match.name = parts.empty() ? "" : parts.back();
    match.directory = in->type == image::FileType::kDirectory;
    match.files.push_back(SourceFile{"", MetaOf(*in), ""});
    std::vector<const image::Inode*> nodes{in};
    if (match.directory) AddSubtree(*in, "", match, nodes);
    matches.push_back(std::move(match));
    inodes.push_back(std::move(nodes));
  }
  VK_TRY(Extract(matches, inodes, extract_dir));
  return matches;
}

// Each regular file's bytes are read from the layer that wrote them, every
// layer scanned once; hard links (one inode) are extracted once.
Result<void> StageFiles::Extract(std::vector<SourceMatch>& matches,
                                 const std::vector<std::vector<const image::Inode*>>& inodes,
                                 const std::string& extract_dir) {
  std::map<const image::Inode*, std::string> paths;
  std::map<uint32_t, std::map<uint64_t, const image::Inode*>> by_layer;
  for (size_t m = 0; m < matches.size(); ++m) {
    for (size_t f = 0; f < matches[m].files.size(); ++f) {
      const image::Inode* in = inodes[m][f];
      if (in->type != image::FileType::kRegular) continue;
      auto [it, added] = paths.emplace(in, extract_dir + "/" + std::to_string(paths.size()));
      matches[m].files[f].host_path = it->second;
      if (added) by_layer[in->source.input][in->source.ordinal] = in;
    }
  }
  for (const auto& [layer, wanted] : by_layer) {
    const std::string& path = layers_.at(layer);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return Error::FromErrno("open layer " + path);
    auto stream = VK_TRY(image::TarStream::Open(fd.get(), path, image::TarReadMode::kIndex));
    size_t left = wanted.size();
    for (uint64_t ordinal = 0; left > 0; ++ordinal) {
      archive_entry* entry = VK_TRY(stream->Next());
      if (entry == nullptr) return Error(ErrorKind::kImage, path + " ended early");
      auto it = wanted.find(ordinal);
      if (it == wanted.end()) continue;
      const std::string& out = paths.at(it->second);
      UniqueFd file(::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
      if (!file) return Error::FromErrno("create " + out);
      VK_TRY(CopyEntryData(*stream, file.get(), it->second->size));
      --left;
    }
  }
  return Ok();
}

Result<std::optional<std::string>> StageFiles::ReadFile(std::string_view path, size_t max_bytes) {
  const image::Inode* in = Lookup(path);
  if (in == nullptr || in->type != image::FileType::kRegular) return std::optional<std::string>();
  if (in->size > max_bytes)
    return Error(ErrorKind::kUsage,
                 std::string(path) + " is larger than " + std::to_string(max_bytes) + " bytes");
  const std::string& layer = layers_.at(in->source.input);
  UniqueFd fd(::open(layer.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::FromErrno("open layer " + layer);
  auto stream = VK_TRY(image::TarStream::Open(fd.get(), layer, image::TarReadMode::kIndex));
  for (uint64_t ordinal = 0;; ++ordinal) {
    archive_entry* entry = VK_TRY(stream->Next());
    if (entry == nullptr)
      return Error(ErrorKind::kImage, layer + " ended before " + std::string(path));
    if (ordinal != in->source.ordinal) continue;
    std::string data;
    uint64_t offset = 0;
    const void* block = nullptr;
    size_t length = 0;
    while (VK_TRY(stream->ReadBlock(&offset, &block, &length))) {
      if (length > in->size || offset > in->size - length)
        return Error(ErrorKind::kImage, std::string(path) + ": data beyond its size");
      if (data.size() < offset + length) data.resize(offset + length);
      data.replace(offset, length, static_cast<const char*>(block), length);
    }
    data.resize(in->size);
    return std::optional<std::string>(std::move(data));
  }
}

}  // namespace vk::build
