// Store: the content-addressed image store under $VIRTKIT_HOME (default
// ~/.local/share/virtkit):
//
//   blobs/sha256/<hex>         manifests, configs, layers (verified by digest)
//   images/<hex of name>.json  one record per image name (what `vk image ls` shows)
//   bases/<manifest hex>.<converter>.ext4   flattened read-only ext4 bases
//   tmp/                       partial downloads (resumable) and temp files
//   locks/                     flock files: one process does each piece of work
//
// Every file appears by rename(2) of a complete temp file, so readers never
// see half a blob, and a killed `vk` leaves at most a resumable partial.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/file_lock.h"
#include "base/result.h"
#include "base/unique_fd.h"
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
  Result<void> Append(const void* data, size_t length);
  // Starts over (the server ignored our Range request, or bytes were bad).
  Result<void> Restart();
  // Checks the digest (and `expected_size` if non-zero) and moves the blob
  // into place; on mismatch the partial is deleted and an error returned.
  Result<std::string> Commit(uint64_t expected_size = 0);

 private:
  friend class Store;
  PartialBlob(std::string digest, std::string path, std::string final_path, UniqueFd fd)
      : digest_(std::move(digest)),
        path_(std::move(path)),
        final_path_(std::move(final_path)),
        fd_(std::move(fd)) {}
  std::string digest_;
  std::string path_;
  std::string final_path_;
  UniqueFd fd_;
  Sha256 sha_;
  uint64_t size_ = 0;
};

struct PruneResult {
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
  bool HasBlob(std::string_view digest) const;
  // Small blobs (manifests, configs), re-verified against their digest.
  Result<std::string> ReadBlob(std::string_view digest, size_t max_bytes) const;
  // Stores bytes under `digest` after checking it (atomic; no-op if present).
  Result<void> PutBlob(std::string_view digest, std::string_view bytes);
  // Stores bytes under their own digest and returns it.
  Result<std::string> PutBlob(std::string_view bytes);
  // Opens (or resumes) the partial download of `digest`. Hold LockBlob.
  Result<PartialBlob> OpenPartial(std::string_view digest);
  Result<FileLock> LockBlob(std::string_view digest) const;

  // The ext4 base of a manifest, keyed by the converter version too, so a
  // new converter never reuses an old base.
  std::string BasePath(std::string_view manifest_digest) const;
  Result<FileLock> LockBase(std::string_view manifest_digest) const;
  // A fresh temp path inside the store (same filesystem, for rename).
  std::string TempPath(std::string_view hint) const;

  Result<void> WriteImage(const ImageRecord& record);
  Result<std::optional<ImageRecord>> FindImage(std::string_view name) const;
  Result<std::vector<ImageRecord>> ListImages() const;
  Result<void> RemoveImage(std::string_view name);
  // Deletes blobs and bases no image record refers to.
  Result<PruneResult> Prune();
  // Held (shared) by every pull or import from its first blob to its image
  // record, and (exclusive) by prune, so prune never deletes blobs of an
  // image that is still arriving.
  Result<FileLock> LockForWriting() const;

 private:
  explicit Store(std::string root) : root_(std::move(root)) {}
  std::string ImagePath(std::string_view name) const;
  std::string root_;
};

std::string SerializeImageRecord(const ImageRecord& record);
Result<ImageRecord> ParseImageRecord(std::string_view json);

}  // namespace vk::image
