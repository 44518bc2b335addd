// Store: the content-addressed image store under $VIRTKIT_HOME (default
// ~/.local/share/virtkit):
//
//   blobs/sha256/<hex>         manifests, configs, layers (verified by digest)
//   images/<hex of name>.json  one record per image name (what `vk image ls` shows)
//   bases/<manifest hex>.<converter>.ext4   flattened read-only ext4 bases
//   integrity/blob-<hex>, integrity/base-<base file name>
//                              what each blob or base looked like when it was
//                              committed (store_integrity.cc)
//   build-cache/<key>.json     `vk build`'s instruction cache (src/build/build_cache.h);
//                              each entry lists the blobs it uses under "blobs"
//   tmp/                       partial downloads (resumable) and temp files
//   locks/                     flock files: one process does each piece of work
//
// Every file appears by rename(2) of a complete temp file, so readers never
// see half a blob. A killed `vk` leaves a resumable partial (verified by
// digest when it completes) and temp files that the next Store::Open sweeps
// (store_tmp.cc). Blobs and bases are checked against their integrity record
// before use; a damaged one is removed and fetched or built again.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/file_lock.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "image/manifest.h"
#include "image/sha256.h"

namespace vk::image {

// What the store knows about one named image.
struct ImageRecord {
  std::string name;             // as shown: "docker.io/library/alpine:latest", "debian:local"
  std::string source;           // where it came from, as the user typed it
  std::string manifest_digest;  // of the (platform) image manifest
  std::string config_digest;
  std::vector<std::string> layers;  // layer blob digests, lowest first
  uint64_t size = 0;                // compressed layers + config
  std::string platform;             // "linux/amd64"
  int64_t created = 0;              // unix seconds when stored
};

class Store;

// A blob being written: tmp/<hex>.partial. Kept on failure so an interrupted
// download resumes from size() (HTTP Range) on the next attempt.
class PartialBlob {
 public:
  uint64_t size() const { return size_; }
  uint64_t expected_size() const { return expected_size_; }
  // Refuses (writing nothing) bytes beyond the declared size: a registry
  // that sends more must not fill the disk first.
  Result<void> Append(const void* data, size_t length);
  // Starts over (the server ignored our Range request, or bytes were bad).
  Result<void> Restart();
  // Checks the size and digest and moves the blob into place; on mismatch
  // the partial is deleted and an error returned.
  Result<std::string> Commit();

 private:
  friend class Store;
  PartialBlob(Store* store, std::string digest, uint64_t expected_size, std::string path,
              UniqueFd fd)
      : store_(store),
        digest_(std::move(digest)),
        expected_size_(expected_size),
        path_(std::move(path)),
        fd_(std::move(fd)) {}
  Store* store_;  // not owned
  std::string digest_;
  uint64_t expected_size_;
  std::string path_;
  UniqueFd fd_;
  Sha256 sha_;
  uint64_t size_ = 0;
};

// Whether a check may remove what it finds damaged.
enum class Repair { kRemoveDamaged, kReportOnly };

class TempOwner;

struct PruneResult {
  uint64_t cache_entries_removed = 0;
  uint64_t blobs_removed = 0;
  uint64_t bases_removed = 0;
  uint64_t bytes_freed = 0;
};

class Store {
 public:
  // $VIRTKIT_HOME, else ~/.local/share/virtkit.
  static Result<std::string> DefaultRoot();
  // Creates the layout if missing.
  static Result<Store> Open(std::string root);

  const std::string& root() const { return root_; }
  std::string BlobPath(std::string_view digest) const;
  // True when the blob is present and intact: its size and sha256 match.
  // The hash is recomputed only when the file differs from its integrity
  // record (size, inode, mtime, ctime); a damaged blob is removed (with a
  // warning), so the caller fetches it again.
  bool HasBlob(std::string_view digest) const;
  // Small blobs (manifests, configs), re-verified against their digest.
  Result<std::string> ReadBlob(std::string_view digest, size_t max_bytes) const;
  // Stores bytes under `digest` after checking it (atomic; no-op if present).
  Result<void> PutBlob(std::string_view digest, std::string_view bytes);
  // Stores bytes under their own digest and returns it.
  Result<std::string> PutBlob(std::string_view bytes);
  // Opens (or resumes) the partial download of `digest`, which its
  // descriptor says is `size` bytes (0 only for kEmptyBlobDigest). Hold LockBlob.
  Result<PartialBlob> OpenPartial(std::string_view digest, uint64_t size);
  // Renames a complete temp file whose sha256 is `digest` into place and
  // records its integrity (for writers that hashed it themselves).
  Result<void> AdoptBlob(const std::string& tmp_path, std::string_view digest);
  Result<FileLock> LockBlob(std::string_view digest) const;

  // The ext4 base of a manifest, keyed by the converter version too, so a
  // new converter never reuses an old base.
  std::string BasePath(std::string_view manifest_digest) const;
  Result<FileLock> LockBase(std::string_view manifest_digest) const;
  // True when the base is present, unchanged since CommitBase and built from
  // `inputs` (BaseInputs). With kRemoveDamaged (hold LockBase) a base that
  // fails is removed with a warning; kReportOnly leaves it for the lock holder.
  bool HasBase(std::string_view manifest_digest, std::string_view inputs, Repair repair) const;
  // Moves a finished base from `tmp_path` into place (read-only) and writes
  // its integrity record. Hold LockBase.
  Result<std::string> CommitBase(const std::string& tmp_path, std::string_view manifest_digest,
                                 std::string_view inputs);
  // A fresh temp path inside the store (same filesystem, for rename), named
  // after this Store's owner token so a sweep can tell a dead writer's
  // leftovers from a live one's.
  std::string TempPath(std::string_view hint) const;
  // Removes temp files whose writer is gone (Store::Open does it too).
  void SweepTemps() const;

  Result<void> WriteImage(const ImageRecord& record);
  Result<std::optional<ImageRecord>> FindImage(std::string_view name) const;
  Result<std::vector<ImageRecord>> ListImages() const;
  Result<void> RemoveImage(std::string_view name);
  // Where `vk build` keeps its instruction cache.
  std::string BuildCacheDir() const { return root_ + "/build-cache"; }
  // Deletes blobs and bases no image record (and, with kKeep, no build cache
  // entry) refers to. kDrop empties the build cache first (`vk image prune`);
  // `vk image rm` keeps it, so a rebuild after removing its image is cached.
  enum class BuildCachePolicy { kKeep, kDrop };
  Result<PruneResult> Prune(BuildCachePolicy cache = BuildCachePolicy::kKeep);
  // Held (shared) by every pull or import from its first blob to its image
  // record, and (exclusive) by prune, so prune never deletes blobs of an
  // image that is still arriving.
  Result<FileLock> LockForWriting() const;

 private:
  friend class PartialBlob;
  explicit Store(std::string root) : root_(std::move(root)) {}
  std::string ImagePath(std::string_view name) const;
  std::string IntegrityPath(std::string_view kind, std::string_view name) const;
  // Writes the integrity record of a just-committed file.
  Result<void> RecordIntegrity(const std::string& path, const std::string& record_path,
                               std::string_view inputs) const;
  void RemoveDamaged(const std::string& path, const std::string& record_path,
                     std::string_view why) const;
  std::string root_;
  std::shared_ptr<TempOwner> owner_;  // shared by copies of this Store
};

// What a base is built from: the converter version, the manifest and its
// layers in order. A base recorded with other inputs is rebuilt.
std::string BaseInputs(std::string_view manifest_digest, const std::vector<std::string>& layers);

std::string SerializeImageRecord(const ImageRecord& record);
Result<ImageRecord> ParseImageRecord(std::string_view json);

}  // namespace vk::image
