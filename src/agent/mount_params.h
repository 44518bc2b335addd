// The boot parameters that mount things into the guest's root after
// switch_root (docs/protocol.md, "Boot parameters"): virtio-fs shares,
// tmpfs mounts and bind mounts. The words come from the host (kernel
// command line or a template assignment) and are parsed strictly: the agent
// treats them as untrusted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vk::agent {

// Bounds every guest path in a mount word (PATH_MAX): a word names a path,
// never a buffer the agent would fill.
inline constexpr size_t kMaxMountPath = 4096;

// vk.fs=TAG:GUEST_PATH[:ro]: a virtio-fs share to mount after switch_root.
struct FsMount {
  std::string tag;
  std::string path;
  bool read_only = false;
};

// vk.tmpfs=/PATH[:size=BYTES][:mode=OCTAL]: a tmpfs (nosuid, nodev) at PATH
// (vk run --tmpfs, RUN --mount=type=tmpfs). No size: the kernel's default
// (half the guest's memory); no mode: the kernel's (1777).
struct TmpfsMount {
  std::string path;
  std::optional<uint64_t> size_bytes;
  std::optional<uint32_t> mode;
};

// vk.bind=/SOURCE:/TARGET[:ro]: SOURCE (a file or directory, usually in a
// share) bind-mounted onto TARGET, which is created as an empty file or
// directory when missing (RUN --mount=type=secret,target=...).
struct BindMount {
  std::string source;
  std::string target;
  bool read_only = false;
};

Result<FsMount> ParseFsMount(std::string_view value);
Result<TmpfsMount> ParseTmpfsMount(std::string_view value);
Result<BindMount> ParseBindMount(std::string_view value);

}  // namespace vk::agent
