// virtio-fs: krun_set_root, krun_add_virtiofs*, the overlay entries and the
// retired krun_set_mapped_volumes.
#include <fmt/format.h>

#include <cerrno>

#include "capi/c_args.h"
#include "capi/context_store.h"
#include "libkrun.h"

using vk::capi::EditContext;
using vk::capi::FsShare;
using vk::capi::KrunConfig;
using vk::capi::Refuse;

namespace {

// The tag field of the device's config space is 36 bytes (virtio 1.2 §5.11.4).
constexpr size_t kMaxTagBytes = 36;
// One device per share; bounds what a loop of calls can make us hold.
constexpr size_t kMaxShares = 64;

int32_t AddShare(const char* function, uint32_t ctx_id, const char* c_tag, const char* c_path,
                 uint64_t shm_size, bool read_only) {
  auto tag = vk::capi::ReadString(c_tag, kMaxTagBytes);
  if (!tag) return Refuse(function, tag.error());
  if (tag->empty()) return Refuse(function, EINVAL, "the tag is empty");
  auto path = vk::capi::ReadPath(c_path);
  if (!path) return Refuse(function, path.error());
  FsShare share{.tag = std::move(*tag),
                .host_path = std::move(*path),
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

// The overlay entries need virtual files in our virtio-fs server: checked,
// then refused (docs/libkrun.md, "first cut").
int32_t RefuseOverlay(const char* function, uint32_t ctx_id, const char* fs_tag, const char* path) {
  auto tag = vk::capi::ReadString(fs_tag, kMaxTagBytes);
  if (!tag) return Refuse(function, tag.error());
  auto entry = vk::capi::ReadPath(path);
  if (!entry) return Refuse(function, entry.error());
  return EditContext(function, ctx_id, [&](KrunConfig&) {
    return Refuse(function, ENOTSUP, "overlay entries are not supported yet");
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
  constexpr const char* kFunction = "krun_add_virtiofs3";
  if (c_path == nullptr) {
    // A host-less share only makes sense with overlay entries, not there yet.
    if (c_tag == nullptr) return Refuse(kFunction, EINVAL, "the tag is NULL");
    return EditContext(kFunction, ctx_id, [&](KrunConfig&) {
      return Refuse(kFunction, ENOTSUP, "a share without a host directory is not supported yet");
    });
  }
  return AddShare(kFunction, ctx_id, c_tag, c_path, shm_size, read_only);
}

extern "C" int32_t krun_fs_add_overlay_file(uint32_t ctx_id, const char* fs_tag, const char* path,
                                            const uint8_t* data, size_t data_len, uint32_t mode,
                                            bool one_shot) {
  (void)mode;
  (void)one_shot;
  if (data == nullptr && data_len != 0) {
    return Refuse("krun_fs_add_overlay_file", EINVAL, "data is NULL");
  }
  return RefuseOverlay("krun_fs_add_overlay_file", ctx_id, fs_tag, path);
}

extern "C" int32_t krun_fs_add_overlay_dir(uint32_t ctx_id, const char* fs_tag, const char* path,
                                           uint32_t mode) {
  (void)mode;
  return RefuseOverlay("krun_fs_add_overlay_dir", ctx_id, fs_tag, path);
}

extern "C" int32_t krun_set_mapped_volumes(uint32_t ctx_id, const char* const mapped_volumes[]) {
  (void)ctx_id;
  (void)mapped_volumes;
  // Retired in libkrun, which refuses every call (lib.rs:744).
  return Refuse("krun_set_mapped_volumes", EINVAL, "retired: use krun_add_virtiofs");
}
