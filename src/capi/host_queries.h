// What krun_get_max_vcpus and krun_check_nested_virt ask the host.
#pragma once

#include "base/result.h"

namespace vk::capi {

// KVM's vCPU limit (KVM_CAP_MAX_VCPUS), capped by ours (runtime/machine_size.h:
// the MP table and vsock CID layout are sized for 64). EINVAL without /dev/kvm.
Result<unsigned> MaxVcpus();

// Whether kvm_intel or kvm_amd allows nested guests ("1" or "Y" in its
// "nested" module parameter).
bool NestedVirtAvailable();

}  // namespace vk::capi
