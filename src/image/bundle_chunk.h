// One bundle chunk on its way to and from a registry: zstd (level 3) frames
// through reusable contexts, and the sha256 digests that name them.
#pragma once

#include <zstd.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::image {

inline constexpr int kBundleZstdLevel = 3;

// "sha256:<hex>" of bytes.
std::string Sha256Of(std::span<const uint8_t> bytes);
std::string Sha256Of(std::string_view bytes);

// A compression context, reused across the chunks one worker handles.
class ChunkCompressor {
 public:
  static Result<ChunkCompressor> Create();
  // One zstd frame (with its content size) holding `raw`.
  Result<std::string> Compress(std::span<const uint8_t> raw);

 private:
  struct Free {
    void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
  };
  explicit ChunkCompressor(ZSTD_CCtx* context) : context_(context) {}
  std::unique_ptr<ZSTD_CCtx, Free> context_;
  std::vector<char> scratch_;  // compressBound of the largest chunk so far
};

class ChunkDecompressor {
 public:
  static Result<ChunkDecompressor> Create();
  // Decompresses one frame that must hold exactly out.size() bytes
  // (untrusted: the frame's declared size and real size are both checked).
  Result<void> Decompress(std::string_view frame, std::span<uint8_t> out);

 private:
  struct Free {
    void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
  };
  explicit ChunkDecompressor(ZSTD_DCtx* context) : context_(context) {}
  std::unique_ptr<ZSTD_DCtx, Free> context_;
};

// The largest compressed frame a chunk of `raw_size` bytes may be: zstd's
// bound. A download bigger than this is refused before it is read.
uint64_t MaxCompressedSize(uint64_t raw_size);

}  // namespace vk::image
