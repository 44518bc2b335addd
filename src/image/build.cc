#include "image/build.h"

#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <unordered_map>

#include "base/unique_fd.h"
#include "image/dir_source.h"
#include "image/tar_entry.h"
#include "image/tar_stream.h"

namespace vk::image {
namespace {

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// The output appears only when complete: built under a temporary name in the
// same directory, renamed at the end, removed on any failure.
class TempOutput {
 public:
  explicit TempOutput(const std::string& output)
      : output_(output), temp_(fmt::format("{}.tmp-{}", output, ::getpid())) {
    ::unlink(temp_.c_str());
  }
  ~TempOutput() {
    if (!committed_) ::unlink(temp_.c_str());
  }
  const std::string& path() const { return temp_; }
  Result<void> Commit() {
    if (::rename(temp_.c_str(), output_.c_str()) != 0)
      return Error::FromErrno(fmt::format("rename {} to {}", temp_, output_));
    committed_ = true;
    return Ok();
  }

 private:
  std::string output_;
  std::string temp_;
  bool committed_ = false;
};

struct OpenInputs {
  std::vector<UniqueFd> fds;
  std::vector<std::string> names;
};

Result<OpenInputs> OpenAll(const std::vector<std::string>& inputs, const std::string& spool_dir) {
  OpenInputs open;
  for (const std::string& input : inputs) {
    if (input == "-") {
      open.fds.push_back(VK_TRY(SpoolToTempFile(STDIN_FILENO, spool_dir)));
      open.names.push_back("stdin");
      continue;
    }
    UniqueFd fd(::open(input.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return Error::FromErrno("open " + input);
    open.fds.push_back(std::move(fd));
    open.names.push_back(input);
  }
  return open;
}

Result<void> IndexAll(OpenInputs& in, FsTree& tree, Whiteouts whiteouts) {
  for (uint32_t i = 0; i < in.fds.size(); ++i) {
    auto stream = VK_TRY(TarStream::Open(in.fds[i].get(), in.names[i], TarReadMode::kIndex));
    VK_TRY(IndexTar(*stream, tree, i, whiteouts));
  }
  return Ok();
}

using DataIndex = std::vector<std::unordered_map<uint64_t, Inode*>>;

DataIndex IndexDataSources(FsTree& tree, size_t inputs) {
  DataIndex index(inputs);
  ForEachDataFile(tree, [&](Inode& inode, const std::string&) {
    if (inode.source.input < inputs) index[inode.source.input][inode.source.ordinal] = &inode;
  });
  return index;
}

// Pass 2: streams each input once, writing the data of the entries that won.
Result<Digest> StreamData(int fd, const std::string& name,
                          const std::unordered_map<uint64_t, Inode*>& wanted, Ext4Image& image) {
  auto stream = VK_TRY(TarStream::Open(fd, name, TarReadMode::kData));
  for (uint64_t ordinal = 0;; ++ordinal) {
    archive_entry* entry = VK_TRY(stream->Next());
    if (!entry) break;
    auto it = wanted.find(ordinal);
    if (it == wanted.end()) continue;
    DataSink sink = VK_TRY(image.OpenData(*it->second));
    uint64_t offset;
    const void* data;
    size_t length;
    while (VK_TRY(stream->ReadBlock(&offset, &data, &length)))
      VK_TRY_CTX(sink.Write(offset, data, length), name);
    VK_TRY(sink.Finish());
  }
  return stream->RawDigest();
}

Result<BuildResult> Finish(Ext4Image& image, const Digest& fingerprint, const BuildOptions& options,
                           TempOutput& temp, Ext4Geometry geometry) {
  BuildResult result;
  result.fingerprint = fingerprint;
  result.uuid = options.uuid ? *options.uuid : UuidFromFingerprint(fingerprint);
  result.size_bytes = geometry.blocks * kExt4BlockSize;
  result.inodes = geometry.inodes;
  VK_TRY(image.Close(result.uuid, HashSeedFromFingerprint(fingerprint)));
  VK_TRY(temp.Commit());
  return result;
}

}  // namespace

Result<BuildResult> BuildExt4FromTars(const std::vector<std::string>& inputs, Whiteouts whiteouts,
                                      const std::string& output, const BuildOptions& options) {
  // No inputs is an image without layers (docker builds one from `FROM
  // scratch` and config instructions alone): a root directory only.
  OpenInputs in = VK_TRY(OpenAll(inputs, DirName(output)));
  FsTree tree(options.limits);
  VK_TRY(IndexAll(in, tree, whiteouts));
  TreeStats stats = tree.Finalize();
  Ext4Geometry geometry = VK_TRY(ComputeGeometry(stats, options.size_bytes));
  TempOutput temp(output);
  auto image = VK_TRY(Ext4Image::Create(temp.path(), geometry, stats.newest_mtime));
  Ext4Image::DataHook defer = [](Inode&, const std::string&) { return Ok(); };
  VK_TRY(image->WriteTree(tree, defer));
  DataIndex index = IndexDataSources(tree, in.fds.size());
  std::vector<Digest> digests;
  for (size_t i = 0; i < in.fds.size(); ++i)
    digests.push_back(VK_TRY(StreamData(in.fds[i].get(), in.names[i], index[i], *image)));
  InputKind kind = whiteouts == Whiteouts::kOci ? InputKind::kOciLayers : InputKind::kTar;
  return Finish(*image, Fingerprint(kind, options.size_bytes, digests), options, temp, geometry);
}

Result<BuildResult> BuildExt4FromDir(const std::string& dir, const std::string& output,
                                     const BuildOptions& options) {
  FsTree tree(options.limits);
  VK_TRY(IndexDirectory(dir, tree));
  TreeStats stats = tree.Finalize();
  Digest metadata = TreeMetadataDigest(tree);
  Ext4Geometry geometry = VK_TRY(ComputeGeometry(stats, options.size_bytes));
  TempOutput temp(output);
  auto image = VK_TRY(Ext4Image::Create(temp.path(), geometry, stats.newest_mtime));
  Sha256 content;
  Ext4Image::DataHook copy = [&](Inode& inode, const std::string& path) -> Result<void> {
    DataSink sink = VK_TRY(image->OpenData(inode));
    return CopyHostFile(dir, path, inode, &sink, content);
  };
  VK_TRY(image->WriteTree(tree, copy));
  Digest fingerprint =
      Fingerprint(InputKind::kDirectory, options.size_bytes, {metadata, content.Final()});
  return Finish(*image, fingerprint, options, temp, geometry);
}

namespace {

// A scratch disk holding `tree`. Every `vk run` and build step mounts one
// read-write, and on PVM hosts (the guest kernel emulated) that mount's time
// grows with the number of block groups and of inodes. Measured there, root
// mount of a restored 256 MiB guest, 64 GiB filesystems: 4 KiB clusters
// (512 groups) with 1 M inodes 6.5-8 s; 64 KiB clusters (bigalloc: 32
// groups) with 1 M inodes 3.6-4.0 s, with 256 K inodes 1.6-1.8 s; a 20 MB
// image 1.2-1.5 s. So: 64 KiB clusters, one inode per 256 KiB (256 K for
// 64 GiB). A small file then takes a whole cluster of the guest's view of
// the disk, never of the host's: the file is sparse and the guest writes
// only the blocks it fills.
using ScratchData = std::function<Result<void>(Ext4Image&, Inode&, const std::string&)>;

Result<void> WriteScratchDisk(FsTree& tree, const std::string& output, uint64_t size_bytes,
                              const ScratchData& data, const Digest& fingerprint) {
  constexpr uint64_t kBytesPerInode = 256 * 1024;
  constexpr uint32_t kClusterBlocks = 16;  // 64 KiB
  TreeStats stats = tree.Finalize();
  Ext4Geometry geometry = VK_TRY(ComputeGeometry(stats, size_bytes));
  geometry.cluster_blocks = kClusterBlocks;
  geometry.inodes = std::max<uint64_t>(geometry.inodes, size_bytes / kBytesPerInode);
  geometry.inodes = std::min<uint64_t>(geometry.inodes, UINT32_MAX / 2);
  TempOutput temp(output);
  auto image = VK_TRY(Ext4Image::Create(temp.path(), geometry, stats.newest_mtime));
  Ext4Image::DataHook hook = [&](Inode& inode, const std::string& path) {
    return data(*image, inode, path);
  };
  VK_TRY(image->WriteTree(tree, hook));
  BuildOptions options;
  options.size_bytes = size_bytes;
  VK_TRY(Finish(*image, fingerprint, options, temp, geometry));
  return Ok();
}

}  // namespace

Result<void> CreateScratchDisk(const std::string& output, uint64_t size_bytes) {
  FsTree tree{Limits{}};
  ScratchData none = [](Ext4Image&, Inode&, const std::string&) { return Ok(); };
  return WriteScratchDisk(tree, output, size_bytes, none,
                          Fingerprint(InputKind::kDirectory, size_bytes, {}));
}

namespace {

void MapCallerToRoot(Inode& inode, uid_t uid, gid_t gid) {
  if (inode.uid == uid) inode.uid = 0;
  if (inode.gid == gid) inode.gid = 0;
  for (auto& [name, dentry] : inode.children) MapCallerToRoot(*dentry.inode, uid, gid);
}

Result<void> ApplyLayerOwners(FsTree& tree, const std::string& prefix,
                              const std::vector<LayerOwner>& owners) {
  Inode* upper = tree.Find(prefix);
  if (upper == nullptr) return Error("the layer's upper directory is missing");
  MapCallerToRoot(*upper, ::getuid(), ::getgid());
  for (const LayerOwner& owner : owners) {
    Inode* inode = tree.Find(prefix + "/" + owner.path);
    if (inode == nullptr || inode == upper) {
      return Error(ErrorKind::kUsage,
                   "layer owner for " + owner.path + ": no such entry in the layer");
    }
    inode->uid = owner.uid;
    inode->gid = owner.gid;
  }
  return Ok();
}

}  // namespace

Result<void> CreateScratchDiskWithUpper(const std::string& upper_dir, const std::string& output,
                                        uint64_t size_bytes,
                                        const std::vector<LayerOwner>& owners) {
  constexpr char kUpper[] = "upper";  // the overlay's upper directory (src/agent/system_setup.cc)
  FsTree tree{Limits{}};
  // The merged root takes the upper root's attributes: root's 0755, as the
  // agent would make it, whatever the staging directory's own mode.
  EntryMeta upper;
  upper.type = FileType::kDirectory;
  upper.permissions = 0755;
  VK_TRY(tree.Add(kUpper, upper, 0, DataSource{}));
  VK_TRY(IndexDirectoryAt(upper_dir, kUpper, tree));
  const std::string prefix = std::string("/") + kUpper;
  VK_TRY(ApplyLayerOwners(tree, prefix, owners));
  Sha256 content;
  ScratchData copy = [&](Ext4Image& image, Inode& inode, const std::string& path) -> Result<void> {
    DataSink sink = VK_TRY(image.OpenData(inode));
    return CopyHostFile(upper_dir, path.substr(prefix.size()), inode, &sink, content);
  };
  Digest metadata = TreeMetadataDigest(tree);
  return WriteScratchDisk(tree, output, size_bytes, copy,
                          Fingerprint(InputKind::kDirectory, size_bytes, {metadata}));
}

Result<Digest> FingerprintInputs(InputKind kind, const std::vector<std::string>& inputs,
                                 uint64_t size_bytes) {
  std::vector<Digest> digests;
  if (kind != InputKind::kDirectory) {
    for (const std::string& input : inputs) digests.push_back(VK_TRY(DigestFile(input)));
    return Fingerprint(kind, size_bytes, digests);
  }
  if (inputs.size() != 1) return Error("a directory fingerprint takes exactly one directory");
  FsTree tree{Limits{}};
  VK_TRY(IndexDirectory(inputs[0], tree));
  tree.Finalize();
  Digest metadata = TreeMetadataDigest(tree);
  Sha256 content;
  Result<void> status = Ok();
  ForEachDataFile(tree, [&](Inode& inode, const std::string& path) {
    if (status.ok()) status = CopyHostFile(inputs[0], path, inode, nullptr, content);
  });
  VK_TRY(std::move(status));
  return Fingerprint(kind, size_bytes, {metadata, content.Final()});
}

}  // namespace vk::image
