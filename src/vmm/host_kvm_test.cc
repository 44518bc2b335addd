#include "vmm/host_kvm.h"

#include <gtest/gtest.h>

namespace vk {
namespace {

TEST(HostKvmTest, PvmGetsEmulatorSwitchesAndOneVcpu) {
  std::string pvm = FlavorCmdline(KvmFlavor::kPvm);
  for (const char* flag :
       {"noxsave", "clearcpuid=popcnt,smap", "nosmap", "tsc=reliable", "percpu_alloc=page"}) {
    EXPECT_NE(pvm.find(flag), std::string::npos) << flag;
  }
  EXPECT_EQ(BootableVcpus(KvmFlavor::kPvm, 4), 1u);
}

TEST(HostKvmTest, HardwareKvmBootsNormally) {
  EXPECT_EQ(FlavorCmdline(KvmFlavor::kHardware), "");
  EXPECT_EQ(BootableVcpus(KvmFlavor::kHardware, 4), 4u);
  EXPECT_EQ(BootableVcpus(KvmFlavor::kHardware, 64), 64u);
}

}  // namespace
}  // namespace vk
