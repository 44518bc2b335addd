// Snapshots of real KVM machines running hand-written guests: a guest saved
// mid-computation, or halted waiting for a timer interrupt, is restored in a
// new process (a gtest death-test child re-executes this binary) and carries
// on to the same end. Needs /dev/kvm (CI has it: these must not skip there).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "base/remove_tree.h"
#include "vmm/machine.h"
#include "vmm/testing/tiny_elf.h"

namespace vk {
namespace {

using testing::TinyElfKernel;
constexpr uint64_t kMemory = 64ull << 20;
constexpr int kGuestDone = 42;

// rax = sum(1..n) by a loop, then exit 42 if it is right (1 on a wrong sum).
std::vector<uint8_t> ComputeGuest(uint64_t n) {
  std::vector<uint8_t> code = {0x48, 0xb9};  // mov rcx, n
  for (int i = 0; i < 8; ++i) code.push_back(static_cast<uint8_t>(n >> (8 * i)));
  const uint64_t sum = n * (n + 1) / 2;
  code.insert(code.end(), {
                              0x48, 0x31, 0xc0,  // xor rax, rax
                              0x48, 0x01, 0xc8,  // 1: add rax, rcx
                              0x48, 0xff, 0xc9,  // dec rcx
                              0x75, 0xf8,        // jnz 1b
                              0x48, 0xbb,        // mov rbx, sum
                          });
  for (int i = 0; i < 8; ++i) code.push_back(static_cast<uint8_t>(sum >> (8 * i)));
  code.insert(code.end(), {
                              0x48, 0x39, 0xd8,              // cmp rax, rbx
                              0x75, 0x05,                    // jne fail
                              0xb0, 0x2a, 0xe6, 0xf4, 0xf4,  // mov al, 42; out 0xf4, al; hlt
                              0xb0, 0x01, 0xe6, 0xf4, 0xf4,  // fail: mov al, 1; out; hlt
                          });
  return code;
}

// Builds an IDT entry for vector 0x40, arms the LAPIC one-shot timer
// (800M bus cycles, ~0.8 s), halts with interrupts on; the handler exits 42.
// The IDT lives just past the code (the segment's memsz covers it).
const std::vector<uint8_t> kTimerGuest = {
    0x48, 0x8d, 0x3d, 0x99, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x05, 0x76, 0x00, 0x00, 0x00, 0x66, 0x89,
    0x87, 0x00, 0x04, 0x00, 0x00, 0x66, 0xc7, 0x87, 0x02, 0x04, 0x00, 0x00, 0x08, 0x00, 0x66, 0xc7,
    0x87, 0x04, 0x04, 0x00, 0x00, 0x00, 0x8e, 0x48, 0xc1, 0xe8, 0x10, 0x66, 0x89, 0x87, 0x06, 0x04,
    0x00, 0x00, 0x48, 0xc1, 0xe8, 0x10, 0x89, 0x87, 0x08, 0x04, 0x00, 0x00, 0xc7, 0x87, 0x0c, 0x04,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x05, 0x43, 0x00, 0x00, 0x00, 0x48, 0x89, 0x78,
    0x02, 0x0f, 0x01, 0x18, 0xb8, 0xf0, 0x00, 0xe0, 0xfe, 0xc7, 0x00, 0xff, 0x01, 0x00, 0x00, 0xb8,
    0xe0, 0x03, 0xe0, 0xfe, 0xc7, 0x00, 0x0b, 0x00, 0x00, 0x00, 0xb8, 0x20, 0x03, 0xe0, 0xfe, 0xc7,
    0x00, 0x40, 0x00, 0x00, 0x00, 0xb8, 0x80, 0x03, 0xe0, 0xfe, 0xc7, 0x00, 0x00, 0x08, 0xaf, 0x2f,
    0xfb, 0xf4, 0xeb, 0xfd, 0xb0, 0x2a, 0xe6, 0xf4, 0xf4, 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00,
    0x0f, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00,
};
constexpr uint64_t kTimerGuestMemsz = 4096;

// The same in TSC-deadline mode, the timer Linux guests use: LVT timer =
// vector 0x40 | mode 2 (bit 18), IA32_TSC_DEADLINE (MSR 0x6e0) = rdtsc + 1e9,
// sti; hlt. A restore that loses TSC_DEADLINE (KVM_SET_LAPIC after the MSRs
// re-arms the timer and clears it) leaves this guest halted for ever.
//   lea idt(%rip),%rdi ... lidt (as above)
//   mov $0xfee00320,%eax; movl $0x40040,(%rax)
//   rdtsc; shl $32,%rdx; or %rdx,%rax; mov $1000000000,%rcx; add %rcx,%rax
//   mov %rax,%rdx; shr $32,%rdx; mov $0x6e0,%ecx; wrmsr; sti; 1: hlt; jmp 1b
//   handler: mov $42,%al; out %al,$0xf4; hlt
const std::vector<uint8_t> kTscDeadlineGuest = {
    0x48, 0x8d, 0x3d, 0xa9, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x05, 0x81, 0x00, 0x00, 0x00, 0x66, 0x89,
    0x87, 0x00, 0x04, 0x00, 0x00, 0x66, 0xc7, 0x87, 0x02, 0x04, 0x00, 0x00, 0x08, 0x00, 0x66, 0xc7,
    0x87, 0x04, 0x04, 0x00, 0x00, 0x00, 0x8e, 0x48, 0xc1, 0xe8, 0x10, 0x66, 0x89, 0x87, 0x06, 0x04,
    0x00, 0x00, 0x48, 0xc1, 0xe8, 0x10, 0x89, 0x87, 0x08, 0x04, 0x00, 0x00, 0xc7, 0x87, 0x0c, 0x04,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x48, 0x8d, 0x05, 0x53, 0x00, 0x00, 0x00, 0x48, 0x89, 0x78,
    0x02, 0x0f, 0x01, 0x18, 0xb8, 0xf0, 0x00, 0xe0, 0xfe, 0xc7, 0x00, 0xff, 0x01, 0x00, 0x00, 0xb8,
    0x20, 0x03, 0xe0, 0xfe, 0xc7, 0x00, 0x40, 0x00, 0x04, 0x00, 0x0f, 0x31, 0x48, 0xc1, 0xe2, 0x20,
    0x48, 0x09, 0xd0, 0x48, 0xc7, 0xc1, 0x00, 0xca, 0x9a, 0x3b, 0x48, 0x01, 0xc8, 0x48, 0x89, 0xc2,
    0x48, 0xc1, 0xea, 0x20, 0xb9, 0xe0, 0x06, 0x00, 0x00, 0x0f, 0x30, 0xfb, 0xf4, 0xeb, 0xfd, 0xb0,
    0x2a, 0xe6, 0xf4, 0xf4, 0x66, 0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00, 0x90,
    0x0f, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00,
};

class MachineSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/dev/kvm", R_OK | W_OK) != 0) GTEST_SKIP() << "needs /dev/kvm";
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    char pattern[] = "/tmp/vk-snapshot-test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
    dir_ = root_ + "/snap";
  }
  void TearDown() override {
    if (!root_.empty()) (void)RemoveTreeWithin("/tmp", root_);
  }

  MachineConfig Config(const std::vector<uint8_t>& kernel) {
    MachineConfig config;
    config.kernel = kernel;
    config.memory_bytes = kMemory;
    config.guest_identity = "tiny-guest";
    return config;
  }

  // Boots `kernel`, lets it run for `run_for`, saves it into dir_.
  void BootAndSave(const std::vector<uint8_t>& kernel, std::chrono::milliseconds run_for) {
    auto machine = Machine::Create(Config(kernel));
    ASSERT_TRUE(machine.ok()) << machine.error().message();
    ASSERT_TRUE((*machine)->Start().ok());
    std::this_thread::sleep_for(run_for);
    auto saved = (*machine)->SaveSnapshot(dir_);
    ASSERT_TRUE(saved.ok()) << saved.error().message();
  }

  // In a new process: restore dir_ and exit with the guest's status.
  static void RestoreAndExit(const std::vector<uint8_t>& kernel, const std::string& dir) {
    MachineConfig config;
    config.kernel = kernel;
    config.memory_bytes = kMemory;
    config.guest_identity = "tiny-guest";
    config.restore_from = dir;
    auto start = std::chrono::steady_clock::now();
    auto machine = Machine::Create(config);
    if (!machine.ok()) {
      std::fprintf(stderr, "restore: %s\n", machine.error().message().c_str());
      std::_Exit(100);
    }
    auto started = (*machine)->Start();
    if (!started.ok()) {
      std::fprintf(stderr, "start: %s\n", started.error().message().c_str());
      std::_Exit(101);
    }
    auto ready = std::chrono::steady_clock::now() - start;
    std::fprintf(stderr, "restored in %.2f ms\n",
                 std::chrono::duration<double, std::milli>(ready).count());
    MachineExit exit =
        (*machine)->Wait(std::chrono::steady_clock::now() + std::chrono::seconds(60));
    std::fprintf(stderr, "guest ended: %s (status %d)\n", exit.detail.c_str(), exit.status);
    std::_Exit(exit.kind == ExitKind::kPowerOff ? exit.status : 102);
  }

  std::string root_, dir_;
};

// Guest ring-0 code runs natively on hardware KVM but is emulated on PVM
// hosts (~400k loop iterations/s): size the computation to ~2 s here.
uint64_t LoopIterationsForTwoSeconds() {
  constexpr uint64_t kProbe = 100000;
  std::vector<uint8_t> kernel = TinyElfKernel(ComputeGuest(kProbe));
  MachineConfig config;
  config.kernel = kernel;
  config.memory_bytes = kMemory;
  auto machine = Machine::Create(config);
  if (!machine.ok() || !(*machine)->Start().ok()) return kProbe;
  (*machine)->Wait(std::chrono::steady_clock::now() + std::chrono::seconds(30));
  double seconds = std::chrono::duration<double>((*machine)->stats().run_time).count();
  double rate = kProbe / std::max(seconds, 1e-6);
  // sum(1..n) must fit in 64 bits: n < 6e9.
  return static_cast<uint64_t>(std::min(rate * 2, 5e9));
}

TEST_F(MachineSnapshotTest, GuestSavedMidComputationFinishesInANewProcess) {
  uint64_t iterations = LoopIterationsForTwoSeconds();
  std::printf("computing sum(1..%lu), ~2 s of guest work\n",
              static_cast<unsigned long>(iterations));
  std::vector<uint8_t> kernel = TinyElfKernel(ComputeGuest(iterations));
  // Saving fails if the loop already ended (Pause refuses a stopped machine).
  ASSERT_NO_FATAL_FAILURE(BootAndSave(kernel, std::chrono::milliseconds(300)));
  EXPECT_EXIT(RestoreAndExit(kernel, dir_), ::testing::ExitedWithCode(kGuestDone), "restored in");
  // A snapshot restores any number of times: the memory file is never written.
  EXPECT_EXIT(RestoreAndExit(kernel, dir_), ::testing::ExitedWithCode(kGuestDone), "restored in");
}

TEST_F(MachineSnapshotTest, GuestWaitingForATimerStillGetsItAfterRestore) {
  std::vector<uint8_t> kernel = TinyElfKernel(kTimerGuest, 0x1000000, 0, kTimerGuestMemsz);
  ASSERT_NO_FATAL_FAILURE(BootAndSave(kernel, std::chrono::milliseconds(50)));
  EXPECT_EXIT(RestoreAndExit(kernel, dir_), ::testing::ExitedWithCode(kGuestDone), "restored in");
}

TEST_F(MachineSnapshotTest, GuestWaitingForItsTscDeadlineStillGetsItAfterRestore) {
  std::vector<uint8_t> kernel = TinyElfKernel(kTscDeadlineGuest, 0x1000000, 0, kTimerGuestMemsz);
  ASSERT_NO_FATAL_FAILURE(BootAndSave(kernel, std::chrono::milliseconds(50)));
  EXPECT_EXIT(RestoreAndExit(kernel, dir_), ::testing::ExitedWithCode(kGuestDone), "restored in");
}

TEST_F(MachineSnapshotTest, SnapshotOfAnotherGuestIsRefused) {
  std::vector<uint8_t> kernel = TinyElfKernel(kTimerGuest, 0x1000000, 0, kTimerGuestMemsz);
  ASSERT_NO_FATAL_FAILURE(BootAndSave(kernel, std::chrono::milliseconds(10)));
  MachineConfig config = Config(kernel);
  config.restore_from = dir_;
  config.guest_identity = "another-guest";
  auto machine = Machine::Create(config);
  ASSERT_FALSE(machine.ok());
  EXPECT_NE(machine.error().message().find("another guest kernel"), std::string::npos)
      << machine.error().message();
  config.guest_identity = "tiny-guest";
  config.memory_bytes = kMemory * 2;
  machine = Machine::Create(config);
  ASSERT_FALSE(machine.ok());
  EXPECT_NE(machine.error().message().find("memory size"), std::string::npos);
}

TEST_F(MachineSnapshotTest, CorruptOrTruncatedSnapshotIsRefusedWhole) {
  std::vector<uint8_t> kernel = TinyElfKernel(kTimerGuest, 0x1000000, 0, kTimerGuestMemsz);
  ASSERT_NO_FATAL_FAILURE(BootAndSave(kernel, std::chrono::milliseconds(10)));
  MachineConfig config = Config(kernel);
  config.restore_from = dir_;
  {
    int fd = ::open((dir_ + "/state").c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    uint8_t byte = 0;
    ASSERT_EQ(::pread(fd, &byte, 1, 100), 1);
    byte ^= 0xff;
    ASSERT_EQ(::pwrite(fd, &byte, 1, 100), 1);
    ::close(fd);
  }
  auto machine = Machine::Create(config);
  ASSERT_FALSE(machine.ok());
  EXPECT_NE(machine.error().message().find("checksum"), std::string::npos)
      << machine.error().message();
  ASSERT_EQ(::truncate((dir_ + "/state").c_str(), 40), 0);
  EXPECT_FALSE(Machine::Create(config).ok());
}

TEST_F(MachineSnapshotTest, MemoryFileHoldsOnlyWhatTheGuestTouched) {
  std::vector<uint8_t> kernel = TinyElfKernel(kTimerGuest, 0x1000000, 0, kTimerGuestMemsz);
  ASSERT_NO_FATAL_FAILURE(BootAndSave(kernel, std::chrono::milliseconds(10)));
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/memory").c_str(), &st), 0);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), kMemory);
  // Boot tables, the code page and the IDT: a few pages, not 64 MiB.
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, 1ull << 20);
}

}  // namespace
}  // namespace vk
