// Fuzzes tar entry handling: libarchive header parsing (plain or compressed),
// metadata validation, path normalization, hard links and OCI whiteouts
// applied to an FsTree, and data block reads. Must never crash or escape.
#include <archive_entry.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "image/fs_tree.h"
#include "image/tar_entry.h"
#include "image/tar_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vk::image::Limits limits;
  limits.max_entries = 4096;  // bounds time per input
  limits.max_total_bytes = 1 << 24;
  vk::image::FsTree tree(limits);
  auto stream = vk::image::TarStream::OpenMemory(std::span<const uint8_t>(data, size));
  if (!stream.ok()) return 0;
  for (uint64_t ordinal = 0; ordinal < 4096; ++ordinal) {
    auto entry = (*stream)->Next();
    if (!entry.ok() || *entry == nullptr) break;
    // Entries alternate between two "layers" so whiteouts have lower content.
    uint32_t layer = static_cast<uint32_t>(ordinal & 1);
    (void)vk::image::ApplyTarEntry(tree, *entry, layer, ordinal, vk::image::Whiteouts::kOci);
    uint64_t offset;
    const void* block;
    size_t length;
    for (int i = 0; i < 64; ++i) {
      auto more = (*stream)->ReadBlock(&offset, &block, &length);
      if (!more.ok() || !*more) break;
    }
  }
  tree.Finalize();
  return 0;
}
