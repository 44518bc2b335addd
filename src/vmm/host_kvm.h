// Facts about the host's KVM that change how we boot a guest.
#pragma once

#include <string>

namespace vk {

enum class KvmFlavor {
  kHardware,  // VMX/SVM: the guest kernel runs natively
  kPvm,       // kvm_pvm: the guest kernel is emulated, 1 vCPU, quirks
};

// PVM is detected by its module being loaded (/sys/module/kvm_pvm).
KvmFlavor DetectKvmFlavor();

// Guest kernel command-line switches the PVM emulator needs (see
// kernel/README.md); empty on hardware KVM.
std::string FlavorCmdline(KvmFlavor flavor);

// vCPUs that can actually boot: PVM boots only one (the others hang in their
// real-mode start-up), so there `requested` becomes 1.
// One line for the user on PVM hosts: the vector-state gap that cannot be
// closed from the VMM (proto/guest_tunables.h, docs/security.md).
std::string PvmVectorWarning();

unsigned BootableVcpus(KvmFlavor flavor, unsigned requested);

}  // namespace vk
