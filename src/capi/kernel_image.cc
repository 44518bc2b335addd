#include "capi/kernel_image.h"

#include <archive.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>

#include "base/file_io.h"
#include "base/private_dir.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "runtime/warm_template.h"

namespace vk::capi {
namespace {

constexpr uint8_t kElfMagic[] = {0x7f, 'E', 'L', 'F'};

struct ArchiveReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;

Error ArchiveError(archive* a, const char* what) {
  const char* why = archive_error_string(a);
  return Error(std::string(what) + ": " + (why != nullptr ? why : "unknown libarchive error"),
               EINVAL);
}

}  // namespace

Result<std::vector<uint8_t>> DecompressKernel(std::span<const uint8_t> compressed) {
  ArchiveReader reader(archive_read_new());
  if (!reader) return Error("libarchive: out of memory", ENOMEM);
  archive* a = reader.get();
  // The raw "format" is the stream itself: only the filters decode.
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_bzip2(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_format_raw(a);
  if (archive_read_open_memory(a, compressed.data(), compressed.size()) != ARCHIVE_OK)
    return ArchiveError(a, "the kernel is not a gzip, bzip2 or zstd stream");
  archive_entry* entry = nullptr;
  if (archive_read_next_header(a, &entry) != ARCHIVE_OK)
    return ArchiveError(a, "the compressed kernel");
  std::vector<uint8_t> out;
  const void* block = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  int status;
  while ((status = archive_read_data_block(a, &block, &size, &offset)) == ARCHIVE_OK) {
    if (offset < 0 || static_cast<uint64_t>(offset) + size > kMaxKernelBytes)
      return Error("the decompressed kernel is larger than 512 MiB", EINVAL);
    out.resize(std::max(out.size(), static_cast<size_t>(offset) + size));
    std::memcpy(out.data() + offset, block, size);
  }
  if (status != ARCHIVE_EOF) return ArchiveError(a, "decompress the kernel");
  if (out.size() < sizeof(kElfMagic) || std::memcmp(out.data(), kElfMagic, sizeof(kElfMagic)) != 0)
    return Error("the decompressed kernel is not an ELF vmlinux", EINVAL);
  return out;
}

Result<std::string> DecompressedKernelFile(const std::string& path) {
  std::vector<uint8_t> compressed =
      VK_TRY(ReadFileBytes(path, kMaxKernelBytes).Context("krun_set_kernel " + path));
  const Sha256Digest digest = Sha256Of(compressed);
  const std::string dir = VK_TRY(CacheRoot()) + "/kernels";
  const std::string file = dir + "/" + BytesToHex(digest.data(), digest.size()) + ".vmlinux";
  if (::access(file.c_str(), R_OK) == 0) return file;
  std::vector<uint8_t> kernel = VK_TRY(DecompressKernel(compressed).Context(path));
  VK_TRY(EnsurePrivateDirectory(dir));
  VK_TRY(WritePrivateFileAtomically(file, kernel));
  return file;
}

}  // namespace vk::capi
