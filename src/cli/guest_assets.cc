// `vk guest-assets DIR`: writes the embedded guest kernel (vmlinux) and the
// agent initramfs (initramfs.cpio), so other VMMs (QEMU in bench/) and
// debugging sessions can boot exactly what `vk` boots.
#include "vmm/guest_assets.h"

#include <cstdio>
#include <fstream>
#include <span>

#include "cli/command.h"
#include "vmm/initramfs.h"

namespace vk::cli {
namespace {

bool WriteFile(const std::string& path, std::span<const uint8_t> bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(file);
}

int Run(const std::string& dir) {
  if (EmbeddedKernel().empty() || EmbeddedAgent().empty()) {
    std::fprintf(stderr, "vk guest-assets: this vk build embeds no guest (sanitizer build?)\n");
    return kExitUsage;
  }
  auto initramfs = BuildInitramfs(EmbeddedAgent());
  if (!initramfs.ok()) {
    std::fprintf(stderr, "vk guest-assets: %s\n", initramfs.error().message().c_str());
    return kExitUsage;
  }
  if (!WriteFile(dir + "/vmlinux", EmbeddedKernel()) ||
      !WriteFile(dir + "/initramfs.cpio", *initramfs)) {
    std::fprintf(stderr, "vk guest-assets: cannot write into %s\n", dir.c_str());
    return kExitUsage;
  }
  std::printf("%s/vmlinux\n%s/initramfs.cpio\n", dir.c_str(), dir.c_str());
  return 0;
}

Runner Setup(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  app.add_option("dir", *dir, "Directory to write vmlinux and initramfs.cpio into")->required();
  return [dir] { return Run(*dir); };
}

Command kGuestAssets("guest-assets", "Write the embedded guest kernel and agent initramfs", &Setup);

}  // namespace
}  // namespace vk::cli
