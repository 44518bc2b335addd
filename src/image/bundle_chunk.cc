#include "image/bundle_chunk.h"

#include "base/lazy_library.h"
#include "image/sha256.h"

VK_LAZY_LIBRARY(vk_lazy_zstd);

namespace vk::image {

std::string Sha256Of(std::span<const uint8_t> bytes) {
  Sha256 sha;
  sha.Update(bytes.data(), bytes.size());
  return "sha256:" + DigestHex(sha.Final());
}

std::string Sha256Of(std::string_view bytes) {
  return Sha256Of({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
}

uint64_t MaxCompressedSize(uint64_t raw_size) { return ZSTD_COMPRESSBOUND(raw_size); }

Result<ChunkCompressor> ChunkCompressor::Create() {
  VK_TRY(LoadLazyLibrary(vk_lazy_zstd));
  ZSTD_CCtx* context = ZSTD_createCCtx();
  if (context == nullptr) return Error("zstd: cannot allocate a compression context");
  return ChunkCompressor(context);
}

Result<std::string> ChunkCompressor::Compress(std::span<const uint8_t> raw) {
  // zstd wants room for its bound (16 MiB for a largest chunk); the frame
  // is a fraction of that, so it is copied out of a buffer kept across
  // chunks rather than zero-filling and faulting in a bound-sized string
  // for each one.
  size_t bound = ZSTD_compressBound(raw.size());
  if (scratch_.size() < bound) scratch_.resize(bound);
  size_t n = ZSTD_compressCCtx(context_.get(), scratch_.data(), bound, raw.data(), raw.size(),
                               kBundleZstdLevel);
  if (ZSTD_isError(n)) return Error(std::string("zstd compress: ") + ZSTD_getErrorName(n));
  return std::string(scratch_.data(), n);
}

Result<ChunkDecompressor> ChunkDecompressor::Create() {
  VK_TRY(LoadLazyLibrary(vk_lazy_zstd));
  ZSTD_DCtx* context = ZSTD_createDCtx();
  if (context == nullptr) return Error("zstd: cannot allocate a decompression context");
  return ChunkDecompressor(context);
}

Result<void> ChunkDecompressor::Decompress(std::string_view frame, std::span<uint8_t> out) {
  unsigned long long declared = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (declared != out.size())
    return Error("zstd frame declares " + std::to_string(declared) + " bytes, the chunk is " +
                 std::to_string(out.size()));
  // The destination is exactly the chunk: a frame that would write more
  // fails inside zstd instead of overrunning anything.
  size_t n =
      ZSTD_decompressDCtx(context_.get(), out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(n)) return Error(std::string("zstd decompress: ") + ZSTD_getErrorName(n));
  if (n != out.size())
    return Error("zstd frame holds " + std::to_string(n) + " bytes, the chunk is " +
                 std::to_string(out.size()));
  return Ok();
}

}  // namespace vk::image
