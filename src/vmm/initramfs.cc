#include "vmm/initramfs.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cstdio>
#include <string_view>

namespace vk {
namespace {

constexpr std::string_view kNewcMagic = "070701";
constexpr size_t kNewcHeaderSize = 110;  // magic + 13 eight-digit hex fields
constexpr std::string_view kTrailer = "TRAILER!!!";

struct CpioEntry {
  std::string_view name;
  uint32_t mode;  // type and permission bits
  uint32_t rdev_major = 0;
  uint32_t rdev_minor = 0;
  std::span<const uint8_t> data = {};
};

void PadTo4(std::vector<uint8_t>& out) {
  while (out.size() % 4 != 0) out.push_back(0);
}

// One "newc" record: header, NUL-terminated name, data, each padded so the
// next part starts on a 4-byte boundary.
void AppendEntry(std::vector<uint8_t>& out, uint32_t inode, const CpioEntry& entry) {
  const bool is_dir = S_ISDIR(entry.mode);
  const uint32_t fields[13] = {
      inode,
      entry.mode,
      0,                 // uid
      0,                 // gid
      is_dir ? 2u : 1u,  // nlink
      0,                 // mtime
      static_cast<uint32_t>(entry.data.size()),
      0,  // devmajor
      0,  // devminor
      entry.rdev_major,
      entry.rdev_minor,
      static_cast<uint32_t>(entry.name.size() + 1),
      0,  // check (only used by the "070702" crc format)
  };
  char header[kNewcHeaderSize + 1];
  int at = std::snprintf(header, sizeof(header), "%s", kNewcMagic.data());
  for (uint32_t field : fields)
    at += std::snprintf(header + at, sizeof(header) - at, "%08X", field);
  out.insert(out.end(), header, header + kNewcHeaderSize);
  out.insert(out.end(), entry.name.begin(), entry.name.end());
  out.push_back(0);
  PadTo4(out);
  out.insert(out.end(), entry.data.begin(), entry.data.end());
  PadTo4(out);
}

}  // namespace

Result<std::vector<uint8_t>> BuildInitramfs(std::span<const uint8_t> agent_binary) {
  if (agent_binary.empty()) {
    return Error(
        "build initramfs: the vk-agent binary is empty (build `vk-agent` or pass its path)");
  }
  if (agent_binary.size() > UINT32_MAX)
    return Error("build initramfs: vk-agent is larger than 4 GiB");
  const CpioEntry entries[] = {
      {"dev", S_IFDIR | 0755},
      {"dev/console", S_IFCHR | 0600, 5, 1},
      {"proc", S_IFDIR | 0755},
      {"sys", S_IFDIR | 0755},
      {"newroot", S_IFDIR | 0755},
      {"init", S_IFREG | 0755, 0, 0, agent_binary},
      {kTrailer, 0},
  };
  std::vector<uint8_t> archive;
  archive.reserve(agent_binary.size() + 1024);
  uint32_t inode = 1;
  for (const auto& entry : entries)
    AppendEntry(archive, entry.name == kTrailer ? 0 : inode++, entry);
  return archive;
}

}  // namespace vk
