#include "runtime/vmm_kind.h"

#include <cstdlib>

namespace vk {

Result<VmmKind> ParseVmmKind(std::string_view name) {
  if (name == "virtkit") return VmmKind::kVirtkit;
  if (name == "qemu") return VmmKind::kQemu;
  return Error(ErrorKind::kUsage,
               "unknown VMM \"" + std::string(name) + "\": use virtkit (the default) or qemu");
}

std::string_view VmmKindName(VmmKind kind) { return kind == VmmKind::kQemu ? "qemu" : "virtkit"; }

Result<VmmKind> ChooseVmm(std::string_view flag) {
  if (!flag.empty()) return ParseVmmKind(flag).Context("--vmm");
  const char* env = std::getenv("VIRTKIT_VMM");
  if (env == nullptr || *env == '\0') return VmmKind::kVirtkit;
  return ParseVmmKind(env).Context("VIRTKIT_VMM");
}

}  // namespace vk
