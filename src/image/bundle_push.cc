// PushBundle: map each part, cut it with FastCDC in one pass while workers
// (up to 16 at once) hash each chunk, skip it when all zero or already in
// the registry, else compress it and upload the frame. The index and the
// manifest go last, so the tag never names a bundle with missing chunks.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>

#include "base/mapped_region.h"
#include "base/unique_fd.h"
#include "image/bundle_chunk.h"
#include "image/bundle_format.h"
#include "image/bundle_transfer.h"
#include "image/registry_client.h"

namespace vk::image {
namespace {

struct OpenPart {
  BundlePart part;
  UniqueFd fd;
  MappedRegion map;  // empty for an empty part
};

struct CloseDir {
  void operator()(DIR* d) const { ::closedir(d); }
};

Result<std::vector<std::string>> PartNames(const std::string& dir) {
  std::unique_ptr<DIR, CloseDir> d(::opendir(dir.c_str()));
  if (!d) return Error::FromErrno("open bundle directory " + dir);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    VK_TRY(PartRole(name));
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<OpenPart>> OpenParts(const std::string& dir) {
  std::vector<OpenPart> parts;
  bool disk = false;
  for (const std::string& name : VK_TRY(PartNames(dir))) {
    std::string path = dir + "/" + name;
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return Error::FromErrno("open " + path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return Error::FromErrno("stat " + path);
    if (!S_ISREG(st.st_mode)) return Error(ErrorKind::kUsage, path + " is not a regular file");
    OpenPart p{{name, VK_TRY(PartRole(name)), static_cast<uint64_t>(st.st_size),
                static_cast<uint32_t>(st.st_mode & 0777)},
               std::move(fd),
               {}};
    if (p.part.size > 0)
      p.map = VK_TRY_CTX(MappedRegion::File(p.fd.get(), p.part.size, false), "map " + path);
    disk = disk || p.part.role == "disk";
    parts.push_back(std::move(p));
  }
  if (!disk) return Error(ErrorKind::kUsage, "bundle " + dir + " has no disk (a NAME.ext4 file)");
  return parts;
}

// The chunker's one pass over the parts, run by the workers that hash the
// chunks: each cuts (under the lock) up to the chunk it took, so the cut
// of the next chunks overlaps the hashing of the earlier ones instead of
// preceding all of it.
class ChunkCutter {
 public:
  ChunkCutter(const std::vector<OpenPart>& parts, const FastCdc& cdc) : parts_(parts), cdc_(cdc) {}

  // At least the number of chunks there will be: a chunk other than a
  // part's last holds at least min bytes.
  size_t MaxChunks() const {
    size_t n = 0;
    for (const OpenPart& p : parts_) n += p.part.size / std::max<size_t>(cdc_.limits().min, 1) + 1;
    return n;
  }

  // Cuts into `chunks` (MaxChunks() long) up to chunk i; false when the
  // parts hold fewer chunks.
  bool CutThrough(size_t i, std::vector<BundleChunk>& chunks) {
    std::lock_guard lock(mutex_);
    while (count_ <= i && part_ < parts_.size()) {
      std::span<const uint8_t> bytes = parts_[part_].map.span();
      if (offset_ == bytes.size()) {
        ++part_;
        offset_ = 0;
        continue;
      }
      size_t length = cdc_.NextChunk(bytes.subspan(offset_));
      chunks[count_++] = {part_, offset_, length, {}, {}};
      offset_ += length;
    }
    return i < count_;
  }

  size_t count() const { return count_; }  // once no worker cuts

 private:
  const std::vector<OpenPart>& parts_;
  const FastCdc& cdc_;
  std::mutex mutex_;
  size_t count_ = 0, part_ = 0;
  uint64_t offset_ = 0;
};

// The chunks of the bundle this tag named before, by uncompressed digest:
// those need no compressing to be found in the registry. Best effort.
std::map<std::string, Descriptor> PreviousChunks(RegistryClient& client, const Reference& ref) {
  std::map<std::string, Descriptor> known;
  auto fetched = client.FetchManifest(ref.ManifestReference());
  if (!fetched.ok()) return known;
  auto manifest = ParseBundleManifest(fetched->body);
  if (!manifest.ok()) return known;
  for (const BundleChunk& c : manifest->chunks) known.emplace(c.raw_digest, c.blob);
  return known;
}

struct PushRun {
  RegistryClient& client;
  const std::vector<OpenPart>& parts;
  std::vector<BundleChunk>& chunks;
  // Per chunk, written by one worker each (bytes, not vector<bool> bits,
  // so neighbours never share a word).
  std::vector<uint8_t> stored;   // in the manifest (not all zero)
  std::vector<uint8_t> pending;  // still to compress and upload
  std::atomic<uint64_t> bytes_sent{0}, done{0};
};

std::span<const uint8_t> Bytes(const PushRun& run, const BundleChunk& c) {
  return run.parts[c.part].map.span().subspan(c.offset, c.length);
}

// Phase 1: zero chunks drop out, chunks the last push stored are reused.
Result<void> Classify(PushRun& run, const std::map<std::string, Descriptor>& previous, size_t i) {
  BundleChunk& c = run.chunks[i];
  std::span<const uint8_t> bytes = Bytes(run, c);
  if (IsAllZero(bytes)) return Ok();
  run.stored[i] = true;
  c.raw_digest = Sha256Of(bytes);
  auto known = previous.find(c.raw_digest);
  if (known != previous.end() && VK_TRY(run.client.HasBlob(known->second.digest))) {
    c.blob = known->second;
    return Ok();
  }
  run.pending[i] = true;
  return Ok();
}

// Phase 2: compress, name by the frame's digest, upload unless present.
Result<void> SendChunk(PushRun& run, Progress& progress, size_t task, size_t i) {
  thread_local std::optional<ChunkCompressor> compressor;
  if (!compressor) compressor = VK_TRY(ChunkCompressor::Create());
  BundleChunk& c = run.chunks[i];
  std::string frame = VK_TRY(compressor->Compress(Bytes(run, c)));
  c.blob = {std::string(kBundleChunkType), Sha256Of(frame), frame.size(), std::nullopt, {}};
  UploadOptions upload;
  upload.bytes_sent = &run.bytes_sent;
  upload.chunk_size = frame.size() + 1;  // one PUT: a chunk is at most 16 MiB
  VK_TRY(run.client.UploadBlob(c.blob.digest, BlobData::Memory(frame), upload));
  progress.Update(task, run.done += c.length, 0);
  return Ok();
}

BundlePushResult Summarize(const PushRun& run, std::string manifest_digest) {
  BundlePushResult r;
  r.manifest_digest = std::move(manifest_digest);
  r.bytes_sent = run.bytes_sent;
  for (const OpenPart& p : run.parts) r.total_bytes += p.part.size;
  for (size_t i = 0; i < run.chunks.size(); ++i) {
    uint64_t length = run.chunks[i].length;
    if (!run.stored[i]) r.zero_bytes += length;
    if (run.stored[i]) ++r.chunks;
    if (run.pending[i]) {
      r.uploaded_bytes += length;
      ++r.chunks_sent;
    } else if (run.stored[i]) {
      r.reused_bytes += length;
    }
  }
  return r;
}

}  // namespace

Result<BundlePushResult> PushBundle(const std::string& dir, const Reference& ref,
                                    const BundleOptions& options) {
  std::string what = "push bundle " + dir + " to " + ref.Canonical();
  std::vector<OpenPart> parts = VK_TRY_CTX(OpenParts(dir), what);
  BundleIndex index;
  FastCdc cdc = VK_TRY(FastCdc::Create(index.limits));
  for (const OpenPart& p : parts) index.parts.push_back(p.part);
  ChunkCutter cutter(parts, cdc);
  size_t max_chunks = cutter.MaxChunks();
  std::vector<BundleChunk> chunks(max_chunks);
  RegistryOptions registry_options;
  registry_options.insecure = options.insecure;
  RegistryClient client(ref, registry_options);
  PushRun run{client, parts, chunks, std::vector<uint8_t>(max_chunks),
              std::vector<uint8_t>(max_chunks)};
  auto previous = PreviousChunks(client, ref);
  VK_TRY_CTX(RunTransfers(max_chunks, options.parallel,
                          [&](size_t i) -> Result<void> {
                            if (!cutter.CutThrough(i, chunks)) return Ok();  // past the end
                            return Classify(run, previous, i);
                          }),
             what);
  chunks.resize(cutter.count());
  run.stored.resize(chunks.size());
  run.pending.resize(chunks.size());
  std::vector<size_t> pending;
  uint64_t to_send = 0;
  for (size_t i = 0; i < chunks.size(); ++i)
    if (run.pending[i]) {
      pending.push_back(i);
      to_send += chunks[i].length;
    }
  Progress progress(options.progress);
  size_t task = progress.Add("push " + ref.Familiar(), to_send, Progress::Meter::kRate);
  auto sent = RunTransfers(pending.size(), options.parallel,
                           [&](size_t k) { return SendChunk(run, progress, task, pending[k]); });
  progress.Finish(task, sent.ok() ? "sent " + Progress::FormatBytes(run.bytes_sent) : "failed");
  VK_TRY_CTX(std::move(sent), what);
  std::vector<BundleChunk> stored;
  for (size_t i = 0; i < chunks.size(); ++i)
    if (run.stored[i]) stored.push_back(chunks[i]);
  std::string index_json = SerializeBundleIndex(index);
  Descriptor index_blob{
      std::string(kBundleIndexType), Sha256Of(index_json), index_json.size(), std::nullopt, {}};
  std::string manifest = SerializeBundleManifest(index_blob, index, stored);
  if (manifest.size() > kMaxManifestBytes)
    return Error(what + ": the manifest would be " + std::to_string(manifest.size()) +
                 " bytes, over the 4 MiB registries accept; split the bundle's disk");
  VK_TRY_CTX(client.PushBlob(index_blob.digest, index_json), what);
  VK_TRY_CTX(client.PushManifest(ref.ManifestReference(), kOciManifest, manifest), what);
  return Summarize(run, Sha256Of(manifest));
}

}  // namespace vk::image
