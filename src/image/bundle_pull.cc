// PullBundle: manifest and index first (both checked), then the parts as
// sparse files in a temp directory beside OUT named after the manifest
// digest. Chunks already there and intact (an interrupted pull) are kept;
// the rest are fetched up to 16 at once, verified twice (the frame's digest,
// then the uncompressed bytes' digest) and written with their zero blocks
// left as holes. Only a complete, verified directory is renamed to OUT.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <optional>

#include "base/file_io.h"
#include "base/mapped_region.h"
#include "base/unique_fd.h"
#include "image/bundle_chunk.h"
#include "image/bundle_format.h"
#include "image/bundle_transfer.h"
#include "image/registry_client.h"

namespace vk::image {
namespace {

constexpr size_t kBlock = 4096;  // holes are punched and skipped per block

struct PartFile {
  UniqueFd fd;
  bool resumed = false;  // held bytes from an earlier attempt
};

struct PullRun {
  RegistryClient& client;
  const BundleIndex& index;
  std::vector<BundleChunk>& chunks;
  std::vector<PartFile> files;
  std::vector<uint8_t> kept;  // per chunk, one writer each
  std::atomic<uint64_t> fetched{0}, done{0};
};

std::string TempDirFor(const std::string& out, std::string_view manifest_digest) {
  std::filesystem::path path(out);
  std::string parent = path.parent_path().empty() ? "." : path.parent_path().string();
  return parent + "/." + path.filename().string() + ".pull-" +
         std::string(manifest_digest.substr(7, 16));
}

Result<UniqueFd> LockTempDir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Error::FromErrno("create " + dir);
  UniqueFd lock(::open((dir + "/.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!lock) return Error::FromErrno("open " + dir + "/.lock");
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0)
    return Error(ErrorKind::kConflict, "another vk is pulling into " + dir);
  return lock;
}

// A part's file at its final size; bytes kept only if it already had it.
Result<PartFile> OpenPartFile(const std::string& dir, const BundlePart& part) {
  std::string path = dir + "/" + part.name;
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return Error::FromErrno("open " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error::FromErrno("stat " + path);
  bool resumed = S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) == part.size;
  if (!resumed && ::ftruncate(fd.get(), 0) != 0) return Error::FromErrno("truncate " + path);
  if (::ftruncate(fd.get(), static_cast<off_t>(part.size)) != 0)
    return Error::FromErrno("size " + path);
  return PartFile{std::move(fd), resumed && part.size > 0};
}

Result<void> PunchHole(int fd, uint64_t offset, uint64_t length) {
  if (length == 0) return Ok();
  if (::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                  static_cast<off_t>(length)) != 0)
    return Error::FromErrno("punch a hole in a bundle part");
  return Ok();
}

// Writes a chunk leaving its all-zero blocks as holes (punched, in case an
// earlier attempt wrote something there).
Result<void> WriteSparse(int fd, std::span<const uint8_t> bytes, uint64_t offset, bool resumed) {
  for (size_t at = 0; at < bytes.size();) {
    size_t length = std::min(kBlock, bytes.size() - at);
    bool zero = IsAllZero(bytes.subspan(at, length));
    size_t run = length;
    while (at + run < bytes.size()) {
      size_t next = std::min(kBlock, bytes.size() - at - run);
      if (IsAllZero(bytes.subspan(at + run, next)) != zero) break;
      run += next;
    }
    if (!zero) VK_TRY(WriteAllAt(fd, bytes.subspan(at, run), static_cast<off_t>(offset + at)));
    if (zero && resumed) VK_TRY(PunchHole(fd, offset + at, run));
    at += run;
  }
  return Ok();
}

// Phase 1 of a resumed pull: chunks whose bytes are in place stay; ranges
// no chunk covers must read as zeros, so they are punched.
Result<void> CheckKept(PullRun& run) {
  for (size_t p = 0; p < run.files.size(); ++p) {
    if (!run.files[p].resumed) continue;
    uint64_t size = run.index.parts[p].size;
    MappedRegion map = VK_TRY(MappedRegion::File(run.files[p].fd.get(), size, false));
    uint64_t covered = 0;
    for (size_t i = 0; i < run.chunks.size(); ++i) {
      const BundleChunk& c = run.chunks[i];
      if (c.part != p) continue;
      VK_TRY(PunchHole(run.files[p].fd.get(), covered, c.offset - covered));
      covered = c.offset + c.length;
      run.kept[i] = Sha256Of(map.span().subspan(c.offset, c.length)) == c.raw_digest;
    }
    VK_TRY(PunchHole(run.files[p].fd.get(), covered, size - covered));
  }
  return Ok();
}

Result<void> FetchChunk(PullRun& run, Progress& progress, size_t task, size_t i) {
  thread_local std::optional<ChunkDecompressor> decompressor;
  thread_local std::vector<uint8_t> buffer;
  if (!decompressor) decompressor = VK_TRY(ChunkDecompressor::Create());
  const BundleChunk& c = run.chunks[i];
  std::string what = "chunk at " + std::to_string(c.offset) + " of " + run.index.parts[c.part].name;
  std::string frame = VK_TRY_CTX(run.client.FetchBlobBytes(c.blob.digest, c.blob.size), what);
  run.fetched += frame.size();
  buffer.resize(c.length);
  VK_TRY_CTX(decompressor->Decompress(frame, buffer), what);
  if (Sha256Of(buffer) != c.raw_digest)
    return Error(what + ": its bytes do not match its chunk digest " + c.raw_digest);
  int fd = run.files[c.part].fd.get();
  VK_TRY_CTX(WriteSparse(fd, buffer, c.offset, run.files[c.part].resumed), what);
  // Start writing the chunk to disk now, while other chunks download: the
  // fsync before the rename then finds little left to wait for. Only a hint.
  ::sync_file_range(fd, static_cast<off_t>(c.offset), static_cast<off_t>(c.length),
                    SYNC_FILE_RANGE_WRITE);
  progress.Update(task, run.done += frame.size(), 0);
  return Ok();
}

Result<void> FinishParts(PullRun& run, const std::string& tmp) {
  for (size_t p = 0; p < run.files.size(); ++p) {
    int fd = run.files[p].fd.get();
    if (::fchmod(fd, run.index.parts[p].mode) != 0 || ::fsync(fd) != 0)
      return Error::FromErrno("finish " + tmp + "/" + run.index.parts[p].name);
  }
  return Ok();
}

Result<void> RenameIntoPlace(const std::string& tmp, const std::string& out) {
  ::unlink((tmp + "/.lock").c_str());
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, out.c_str(), RENAME_NOREPLACE) != 0)
    return Error::FromErrno("rename " + tmp + " to " + out);
  return Ok();
}

}  // namespace

Result<BundlePullResult> PullBundle(const Reference& ref, const std::string& out,
                                    const BundleOptions& options) {
  std::string what = "pull bundle " + ref.Canonical() + " to " + out;
  if (::access(out.c_str(), F_OK) == 0)
    return Error(ErrorKind::kConflict, what + ": " + out + " exists; remove it or pull elsewhere");
  RegistryOptions registry_options;
  registry_options.insecure = options.insecure;
  RegistryClient client(ref, registry_options);
  FetchedManifest fetched = VK_TRY_CTX(client.FetchManifest(ref.ManifestReference()), what);
  BundleManifest manifest = VK_TRY_CTX(ParseBundleManifest(fetched.body), what);
  std::string index_json =
      VK_TRY_CTX(client.FetchBlobBytes(manifest.index.digest, manifest.index.size), what);
  BundleIndex index = VK_TRY_CTX(ParseBundleIndex(index_json), what);
  VK_TRY_CTX(ResolveBundle(index, manifest), what);
  std::string tmp = TempDirFor(out, fetched.digest);
  UniqueFd lock = VK_TRY_CTX(LockTempDir(tmp), what);
  PullRun run{client, index, manifest.chunks, {}, std::vector<uint8_t>(manifest.chunks.size())};
  for (const BundlePart& part : index.parts)
    run.files.push_back(VK_TRY_CTX(OpenPartFile(tmp, part), what));
  VK_TRY_CTX(CheckKept(run), what);
  std::vector<size_t> missing;
  uint64_t to_fetch = 0;
  for (size_t i = 0; i < run.chunks.size(); ++i)
    if (!run.kept[i]) {
      missing.push_back(i);
      to_fetch += run.chunks[i].blob.size;
    }
  Progress progress(options.progress);
  size_t task = progress.Add("pull " + ref.Familiar(), to_fetch, Progress::Meter::kRate);
  auto fetched_all = RunTransfers(missing.size(), options.parallel, [&](size_t k) {
    return FetchChunk(run, progress, task, missing[k]);
  });
  progress.Finish(task,
                  fetched_all.ok() ? "fetched " + Progress::FormatBytes(run.fetched) : "failed");
  VK_TRY_CTX(std::move(fetched_all), what);
  VK_TRY_CTX(FinishParts(run, tmp), what);
  VK_TRY_CTX(RenameIntoPlace(tmp, out), what);
  BundlePullResult result{fetched.digest, 0, run.fetched, 0, run.chunks.size(), missing.size()};
  for (const BundlePart& part : index.parts) result.total_bytes += part.size;
  for (size_t i = 0; i < run.chunks.size(); ++i)
    if (run.kept[i]) result.kept_bytes += run.chunks[i].length;
  return result;
}

}  // namespace vk::image
