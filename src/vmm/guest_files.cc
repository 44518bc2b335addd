#include "vmm/guest_files.h"

#include <openssl/evp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <filesystem>

#include "base/file_io.h"
#include "base/strings.h"
#include "vmm/guest_assets.h"
#include "vmm/initramfs.h"
#include "vmm/snapshot_file.h"

namespace vk {
namespace {

// A kernel or initramfs larger than this is not one (the embedded kernel is ~15 MB).
constexpr uint64_t kMaxGuestFileBytes = 512ull << 20;

// A file the user named (--kernel, --initrd): symlinks such as
// /boot/vmlinuz are followed, which ReadFileBytes alone refuses.
Result<std::vector<uint8_t>> ReadUserFile(const std::string& path) {
  std::error_code error;
  std::filesystem::path resolved = std::filesystem::canonical(path, error);
  if (error) return Error("cannot read " + path + ": " + error.message());
  return ReadFileBytes(resolved.string(), kMaxGuestFileBytes);
}

// MADV_DONTNEED on the whole pages inside `bytes` (read-only pages of the
// vk binary: dropped from RSS, read back from the page cache on a touch).
void DropResidentPages(std::span<const uint8_t> bytes) {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  auto start = reinterpret_cast<uintptr_t>(bytes.data());
  uintptr_t first = (start + page - 1) & ~(page - 1);
  uintptr_t last = (start + bytes.size()) & ~(page - 1);
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

}  // namespace

GuestFiles::GuestFiles(std::string kernel_path, std::string initrd_path, bool add_agent)
    : kernel_path_(std::move(kernel_path)),
      initrd_path_(std::move(initrd_path)),
      add_agent_(add_agent) {}

Result<void> GuestFiles::CheckAvailable() const {
  if (kernel_path_.empty() && EmbeddedKernel().empty()) {
    return Error("this vk has no embedded kernel: pass --kernel");
  }
  if (initrd_path_.empty() && EmbeddedAgent().empty()) {
    return Error("this vk has no embedded agent: pass --initrd");
  }
  return Ok();
}

Result<std::span<const uint8_t>> GuestFiles::Kernel() {
  if (kernel_path_.empty()) return EmbeddedKernel();
  if (!kernel_file_) kernel_file_ = VK_TRY(ReadUserFile(kernel_path_));
  return std::span<const uint8_t>(*kernel_file_);
}

Result<std::string> GuestFiles::Identity() {
  if (kernel_path_.empty()) return "embedded:" + CurrentVmmBuild();
  std::span<const uint8_t> kernel = VK_TRY(Kernel());
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(kernel.data(), kernel.size(), digest, &size, EVP_sha256(), nullptr);
  return "kernel:" + BytesToHex(digest, size);
}

Result<std::vector<uint8_t>> GuestFiles::Initrd() {
  if (initrd_path_.empty()) return BuildInitramfs(EmbeddedAgent());
  std::vector<uint8_t> bytes = VK_TRY(ReadUserFile(initrd_path_));
  if (!add_agent_) return bytes;
  if (EmbeddedAgent().empty())
    return Error("this vk has no embedded agent to add to the initramfs");
  bytes.resize((bytes.size() + 3) & ~size_t{3}, 0);  // each archive starts 4-byte aligned
  std::vector<uint8_t> agent = VK_TRY(BuildInitramfs(EmbeddedAgent()));
  bytes.insert(bytes.end(), agent.begin(), agent.end());
  return bytes;
}

Result<GuestBytes> GuestFiles::Load() {
  std::span<const uint8_t> kernel = VK_TRY(Kernel());
  if (!initrd_) initrd_ = VK_TRY(Initrd());
  return GuestBytes{kernel, *initrd_};
}

void GuestFiles::Release() {
  kernel_file_.reset();
  initrd_.reset();
  DropResidentPages(EmbeddedKernel());
  DropResidentPages(EmbeddedAgent());
}

}  // namespace vk
