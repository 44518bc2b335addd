#include "vmm/host_kvm.h"

#include <sys/stat.h>

#include "proto/guest_tunables.h"

namespace vk {

KvmFlavor DetectKvmFlavor() {
  struct stat info;
  return ::stat("/sys/module/kvm_pvm", &info) == 0 ? KvmFlavor::kPvm : KvmFlavor::kHardware;
}

std::string FlavorCmdline(KvmFlavor flavor) {
  if (flavor != KvmFlavor::kPvm) return "";
  // noxsave: xsave/xrstor are not emulated; clearcpuid: popcnt is not
  // emulated and SMAP's clac/stac neither; tsc=reliable skips the emulated
  // clocksource watchdog; percpu_alloc=page avoids a slow embedded-first-chunk
  // path under emulation.
  // vk.pvm=1 tells the agent (src/agent/init.cc) about the vector-state gap;
  // GLIBC_TUNABLES reaches the agent's own environment (proto/guest_tunables.h).
  return std::string("noxsave clearcpuid=popcnt,smap nosmap tsc=reliable percpu_alloc=page ") +
         "vk.pvm=1 GLIBC_TUNABLES=" + proto::kPvmGlibcTunables;
}

std::string PvmVectorWarning() {
  return "vk: warning: this host's KVM is PVM: guest programs that use AVX/AVX-512 registers "
         "themselves (not through glibc) can corrupt each other's (docs/security.md)";
}

unsigned BootableVcpus(KvmFlavor flavor, unsigned requested) {
  return flavor == KvmFlavor::kPvm ? 1 : requested;
}

}  // namespace vk
