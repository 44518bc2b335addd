// TarStream: one tar archive read through libarchive (plain, gzip, zstd or xz,
// detected from the bytes; no external decompressor programs). Two modes:
// kIndex skips file data by seeking (a fast header scan), kData reads every
// raw byte in order and hashes it, so the input digest comes for free.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "image/sha256.h"

struct archive;
struct archive_entry;

namespace vk::image {

enum class TarReadMode { kIndex, kData };

class TarStream {
 public:
  // `fd` must be seekable (a regular file); see SpoolToTempFile for pipes.
  static Result<std::unique_ptr<TarStream>> Open(int fd, std::string name, TarReadMode mode);
  static Result<std::unique_ptr<TarStream>> OpenMemory(std::span<const uint8_t> bytes);
  ~TarStream();
  TarStream(const TarStream&) = delete;
  TarStream& operator=(const TarStream&) = delete;

  // The next entry, or nullptr at the end of the archive.
  Result<archive_entry*> Next();
  // Reads the current entry's data in blocks: offset, pointer, length.
  Result<bool> ReadBlock(uint64_t* offset, const void** data, size_t* length);
  // kData: reads any bytes after the end-of-archive marker and returns the
  // SHA-256 of the whole raw input.
  Result<Digest> RawDigest();
  const std::string& name() const { return name_; }

 private:
  TarStream(int fd, std::string name, TarReadMode mode);
  Error ArchiveError(std::string_view what) const;
  static long ReadCallback(archive*, void* self, const void** buffer);  // NOLINT
  static int64_t SkipCallback(archive*, void* self, int64_t request);   // NOLINT
  static int64_t SeekCallback(archive*, void* self, int64_t offset, int whence);

  int fd_;  // not owned
  std::string name_;
  TarReadMode mode_;
  archive* archive_ = nullptr;
  std::unique_ptr<uint8_t[]> buffer_;
  uint64_t position_ = 0;
  Sha256 sha_;
  int read_error_ = 0;
};

// Copies a non-seekable input (stdin) into an unlinked temporary file in
// `dir` so it can be read twice; returns the file, positioned at 0.
Result<UniqueFd> SpoolToTempFile(int fd, const std::string& dir);

}  // namespace vk::image
