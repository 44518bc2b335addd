// krun_set_kernel's compressed formats: KRUN_KERNEL_FORMAT_IMAGE_GZ, _BZ2
// and _ZSTD are an ELF vmlinux compressed whole. virtkit boots ELF kernels,
// so such a file is decompressed once into the cache, named by the digest
// of the compressed bytes: later starts reuse it (and the warm templates,
// keyed by the kernel's digest, stay valid).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace vk::capi {

// A kernel larger than this, compressed or not, is not one.
inline constexpr uint64_t kMaxKernelBytes = 512ull << 20;

// The decompressed bytes of a gzip, bzip2 or zstd stream (libarchive, loaded
// on first use); an error when they are not an ELF file or exceed
// kMaxKernelBytes.
Result<std::vector<uint8_t>> DecompressKernel(std::span<const uint8_t> compressed);

// The path of `path` decompressed: CACHE/kernels/SHA256.vmlinux, made if
// missing (written to a temporary name, then renamed into place).
Result<std::string> DecompressedKernelFile(const std::string& path);

}  // namespace vk::capi
