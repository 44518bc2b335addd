#include "capi/host_queries.h"

#include <linux/kvm.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "kvm/kvm.h"
#include "runtime/machine_size.h"

namespace vk::capi {
namespace {

bool ParameterSaysYes(const char* path) {
  std::ifstream file(path);
  std::string word;
  if (!(file >> word)) return false;
  return word == "1" || word == "Y" || word == "y";
}

}  // namespace

Result<unsigned> MaxVcpus() {
  auto system = kvm::System::Open();
  if (!system) return Error(system.error().message(), EINVAL);
  int limit = system->CheckExtension(KVM_CAP_MAX_VCPUS);
  // Kernels without the capability report the recommended count only.
  if (limit <= 0) limit = system->CheckExtension(KVM_CAP_NR_VCPUS);
  if (limit <= 0) limit = 1;
  return std::min(static_cast<unsigned>(limit), kMaxVcpus);
}

bool NestedVirtAvailable() {
  return ParameterSaysYes("/sys/module/kvm_intel/parameters/nested") ||
         ParameterSaysYes("/sys/module/kvm_amd/parameters/nested");
}

}  // namespace vk::capi
