// virtio-fs: krun_set_root, krun_add_virtiofs*, the overlay entries and the
// retired krun_set_mapped_volumes.
#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <span>

#include "capi/c_args.h"
#include "capi/context_store.h"
#include "libkrun.h"
#include "virtio/fs/virtual_entries.h"

using vk::capi::EditContext;
using vk::capi::FsShare;
using vk::capi::KrunConfig;
using vk::capi::Refuse;
using vk::virtio::fs::AddVirtualEntry;
using vk::virtio::fs::VirtualEntry;

namespace {

// The tag field of the device's config space is 36 bytes (virtio 1.2 §5.11.4).
constexpr size_t kMaxTagBytes = 36;
// One device per share; bounds what a loop of calls can make us hold.
constexpr size_t kMaxShares = 64;

// `c_path` NULL: a share holding only overlay entries (libkrun's
// krun_add_virtiofs and _2 forward to _3, so all three take it).
int32_t AddShare(const char* function, uint32_t ctx_id, const char* c_tag, const char* c_path,
                 uint64_t shm_size, bool read_only) {
  auto tag = vk::capi::ReadString(c_tag, kMaxTagBytes);
  if (!tag) return Refuse(function, tag.error());
  if (tag->empty()) return Refuse(function, EINVAL, "the tag is empty");
  std::string host_path;
  if (c_path != nullptr) {
    auto path = vk::capi::ReadPath(c_path);
    if (!path) return Refuse(function, path.error());
    host_path = std::move(*path);
  }
  FsShare share{.tag = std::move(*tag),
                .host_path = std::move(host_path),
                .shm_size = shm_size,
                .read_only = read_only};
  return EditContext(function, ctx_id, [&](KrunConfig& config) {
    if (config.shares.size() >= kMaxShares) {
      return Refuse(function, ENOSPC, fmt::format("more than {} virtio-fs shares", kMaxShares));
    }
    config.shares.push_back(std::move(share));
    return 0;
  });
}

// The overlay entries of the share tagged `tag` (the root's for kRootTag,
// whether krun_set_root or a kRootTag share made it), or null: libkrun looks
// the share up when the entry is added (-ENOENT for an unknown tag).
std::vector<VirtualEntry>* OverlayOf(KrunConfig& config, const std::string& tag) {
  FsShare* share = nullptr;
  for (FsShare& candidate : config.shares)
    if (candidate.tag == tag) share = &candidate;
  if (tag == vk::capi::kRootTag && (share != nullptr || config.root_dir))
    return &config.root_overlay;
  return share != nullptr ? &share->overlay : nullptr;
}

// krun_fs_add_overlay_*: a virtual entry at `c_path` inside an existing
// share (virtio/fs/virtual_entries.h; the errnos are libkrun's).
int32_t AddOverlay(const char* function, uint32_t ctx_id, const char* c_tag, const char* c_path,
                   VirtualEntry entry) {
  if (c_tag == nullptr || c_path == nullptr) return Refuse(function, EINVAL, "a NULL argument");
  auto tag = vk::capi::ReadString(c_tag, kMaxTagBytes);
  if (!tag) return Refuse(function, tag.error());
  auto path = vk::capi::ReadPath(c_path);
  if (!path) return Refuse(function, path.error());
  return EditContext(function, ctx_id, [&](KrunConfig& config) {
    std::vector<VirtualEntry>* overlay = OverlayOf(config, *tag);
    if (overlay == nullptr) return Refuse(function, ENOENT, "no virtio-fs share tagged " + *tag);
    if (auto added = AddVirtualEntry(*overlay, *path, std::move(entry)); !added.ok())
      return Refuse(function, added.error());
    return 0;
  });
}

}  // namespace

extern "C" int32_t krun_set_root(uint32_t ctx_id, const char* root_path) {
  auto path = vk::capi::ReadPath(root_path);
  if (!path) return Refuse("krun_set_root", path.error());
  return EditContext("krun_set_root", ctx_id, [&](KrunConfig& config) {
    config.root_dir = std::move(*path);
    return 0;
  });
}

extern "C" int32_t krun_add_virtiofs(uint32_t ctx_id, const char* c_tag, const char* c_path) {
  return AddShare("krun_add_virtiofs", ctx_id, c_tag, c_path, 0, false);
}

extern "C" int32_t krun_add_virtiofs2(uint32_t ctx_id, const char* c_tag, const char* c_path,
                                      uint64_t shm_size) {
  return AddShare("krun_add_virtiofs2", ctx_id, c_tag, c_path, shm_size, false);
}

extern "C" int32_t krun_add_virtiofs3(uint32_t ctx_id, const char* c_tag, const char* c_path,
                                      uint64_t shm_size, bool read_only) {
  return AddShare("krun_add_virtiofs3", ctx_id, c_tag, c_path, shm_size, read_only);
}

extern "C" int32_t krun_fs_add_overlay_file(uint32_t ctx_id, const char* fs_tag, const char* path,
                                            const uint8_t* data, size_t data_len, uint32_t mode,
                                            bool one_shot) {
  if (data == nullptr && data_len != 0) {
    return Refuse("krun_fs_add_overlay_file", EINVAL, "data is NULL");
  }
  // The type comes from the call, the permission bits from `mode` (libkrun
  // keeps the mode as given; a type bit other than S_IFREG would be a lie).
  VirtualEntry file{.mode = S_IFREG | (mode & 07777),
                    .data = std::span<const uint8_t>(data, data_len),
                    .one_shot = one_shot};
  return AddOverlay("krun_fs_add_overlay_file", ctx_id, fs_tag, path, std::move(file));
}

extern "C" int32_t krun_fs_add_overlay_dir(uint32_t ctx_id, const char* fs_tag, const char* path,
                                           uint32_t mode) {
  VirtualEntry dir{.mode = S_IFDIR | (mode & 07777)};
  return AddOverlay("krun_fs_add_overlay_dir", ctx_id, fs_tag, path, std::move(dir));
}

extern "C" int32_t krun_set_mapped_volumes(uint32_t ctx_id, const char* const mapped_volumes[]) {
  (void)ctx_id;
  (void)mapped_volumes;
  // Retired in libkrun, which refuses every call (lib.rs:744).
  return Refuse("krun_set_mapped_volumes", EINVAL, "retired: use krun_add_virtiofs");
}
