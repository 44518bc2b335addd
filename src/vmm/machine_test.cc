// Boots a few hand-written instructions on real KVM: the guest starts in long
// mode at the ELF entry, prints through the serial port and writes its status
// to the exit port. Needs /dev/kvm (CI has it: these tests must not skip there).
#include "vmm/machine.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "vmm/testing/tiny_elf.h"

namespace vk {
namespace {

using testing::TinyElfKernel;

class KvmMachineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/dev/kvm", R_OK | W_OK) != 0) GTEST_SKIP() << "needs /dev/kvm";
    ASSERT_EQ(::pipe2(console_, O_CLOEXEC | O_NONBLOCK), 0);
  }
  void TearDown() override {
    for (int fd : console_) {
      if (fd >= 0) ::close(fd);
    }
  }
  std::string ConsoleOutput() {
    char buffer[256];
    ssize_t n = ::read(console_[0], buffer, sizeof(buffer));
    return n > 0 ? std::string(buffer, n) : "";
  }
  MachineExit Boot(const std::vector<uint8_t>& code) {
    std::vector<uint8_t> kernel = TinyElfKernel(code);
    MachineConfig config;
    config.kernel = kernel;
    config.memory_bytes = 64ull << 20;
    config.console_fd = console_[1];
    auto machine = Machine::Create(config);
    EXPECT_TRUE(machine.ok()) << machine.error().message();
    if (!machine.ok()) return {};
    auto started = (*machine)->Start();
    EXPECT_TRUE(started.ok()) << started.error().message();
    return (*machine)->Wait(std::chrono::steady_clock::now() + std::chrono::seconds(30));
  }
  int console_[2] = {-1, -1};
};

TEST_F(KvmMachineTest, GuestPrintsOnSerialAndPowersOffWithStatus) {
  MachineExit exit = Boot({
      0x66, 0xba, 0xf8, 0x03,  // mov dx, 0x3f8
      0xb0, 'o', 0xee,         // mov al, 'o'; out dx, al
      0xb0, 'k', 0xee,         // mov al, 'k'; out dx, al
      0xb0, '\n', 0xee,        // mov al, '\n'; out dx, al
      0xb0, 0x07,              // mov al, 7
      0xe6, 0xf4,              // out 0xf4, al
      0xf4,                    // hlt
  });
  EXPECT_EQ(exit.kind, ExitKind::kPowerOff) << exit.detail;
  EXPECT_EQ(exit.status, 7);
  EXPECT_EQ(ConsoleOutput(), "ok\n");
}

TEST_F(KvmMachineTest, I8042ResetIsAReboot) {
  MachineExit exit = Boot({0xb0, 0xfe, 0xe6, 0x64, 0xf4});  // mov al, 0xfe; out 0x64, al; hlt
  EXPECT_EQ(exit.kind, ExitKind::kReboot) << exit.detail;
}

TEST_F(KvmMachineTest, TripleFaultEndsTheMachine) {
  // lidt of a zero-limit IDT, then int3: no handler -> #DF -> triple fault.
  MachineExit exit = Boot({
      0x6a, 0x00, 0x6a, 0x00,              // push 0; push 0
      0x0f, 0x01, 0x1c, 0x24,              // lidt [rsp]
      0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0,  // mov rax, [0] (fine)
      0x0f, 0x0b,                          // ud2 -> #UD with no IDT
  });
  EXPECT_TRUE(exit.kind == ExitKind::kTripleFault || exit.kind == ExitKind::kInternalError)
      << exit.detail;
}

TEST_F(KvmMachineTest, DeadlineStopsASpinningGuest) {
  auto start = std::chrono::steady_clock::now();
  MachineExit exit;
  {
    std::vector<uint8_t> kernel = TinyElfKernel({0xeb, 0xfe});  // jmp $
    MachineConfig config;
    config.kernel = kernel;
    config.memory_bytes = 64ull << 20;
    auto machine = Machine::Create(config);
    ASSERT_TRUE(machine.ok());
    ASSERT_TRUE((*machine)->Start().ok());
    exit = (*machine)->Wait(std::chrono::steady_clock::now() + std::chrono::milliseconds(500));
  }
  EXPECT_EQ(exit.kind, ExitKind::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

}  // namespace
}  // namespace vk
