// The kernel and initramfs a VM boots, loaded on first use. A VM restored
// from its warm template boots nothing, so it never reads them: the embedded
// agent's pages and the initramfs built from it would otherwise stay in the
// VMM's resident memory (docs/snapshots.md, "Memory").
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"

namespace vk {

struct GuestBytes {
  std::span<const uint8_t> kernel;
  std::span<const uint8_t> initrd;
};

class GuestFiles {
 public:
  // Empty paths: the kernel and agent embedded in vk. `add_agent`: the
  // initramfs at initrd_path gets the embedded agent appended as a second
  // cpio archive (its /init wins), so a user's initramfs still boots our agent.
  GuestFiles(std::string kernel_path, std::string initrd_path, bool add_agent = false);

  // Fails where this vk embeds no guest (sanitizer builds) and no path was given.
  Result<void> CheckAvailable() const;
  // What the guest is, for snapshot identities: the vk build for the embedded
  // guest (no bytes read), else the digest of the kernel file.
  Result<std::string> Identity();
  // Reads/builds both on the first call; the spans live as long as this.
  Result<GuestBytes> Load();
  // Once the machine has copied them into guest memory: frees the copies and
  // drops the embedded guest's pages from this process's resident memory
  // (they come back from the vk binary if touched again). Spans from Load()
  // must not be used afterwards.
  void Release();

 private:
  Result<std::span<const uint8_t>> Kernel();
  Result<std::vector<uint8_t>> Initrd();

  std::string kernel_path_, initrd_path_;
  bool add_agent_ = false;
  std::optional<std::vector<uint8_t>> kernel_file_, initrd_;
};

}  // namespace vk
