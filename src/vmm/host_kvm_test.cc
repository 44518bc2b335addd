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

// The agent (PID 1) gets the tunables as its environment from the kernel:
// a plain KEY=VALUE (no '.' in the key) on the command line.
TEST(HostKvmTest, PvmSteersGlibcOffAvxFromTheAgentsFirstInstruction) {
  std::string pvm = FlavorCmdline(KvmFlavor::kPvm);
  EXPECT_NE(pvm.find(" GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX,-AVX2,-AVX512F"), std::string::npos)
      << pvm;
  EXPECT_EQ(pvm.find("GLIBC_TUNABLES=", pvm.find("GLIBC_TUNABLES=") + 1), std::string::npos);
  EXPECT_FALSE(PvmVectorWarning().empty());
}

TEST(HostKvmTest, HardwareKvmBootsNormally) {
  EXPECT_EQ(FlavorCmdline(KvmFlavor::kHardware), "");
  EXPECT_EQ(BootableVcpus(KvmFlavor::kHardware, 4), 4u);
  EXPECT_EQ(BootableVcpus(KvmFlavor::kHardware, 64), 64u);
}

}  // namespace
}  // namespace vk
