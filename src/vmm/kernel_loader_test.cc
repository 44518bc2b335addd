#include "vmm/kernel_loader.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "vmm/testing/tiny_elf.h"

namespace vk {
namespace {

class KernelLoaderTest : public ::testing::Test {
 protected:
  KernelLoaderTest()
      : ram_(64 << 20), memory_(GuestMemory::Wrap({{0, ram_.data(), ram_.size()}})) {}

  // A minimal ELF kernel: one PT_LOAD of `payload` at `paddr`, entry `entry`.
  std::vector<uint8_t> Elf(uint64_t paddr, uint64_t entry, const std::vector<uint8_t>& payload,
                           uint64_t memsz = 0) {
    return testing::TinyElfKernel(payload, paddr, entry, memsz);
  }

  std::vector<uint8_t> ram_;
  GuestMemory memory_;
};

TEST_F(KernelLoaderTest, LoadsElfSegmentAndZeroesBss) {
  ram_[0x1000000 + 5] = 0xaa;  // must be cleared as bss
  auto kernel = LoadKernel(memory_, Elf(0x1000000, 0x1000000, {1, 2, 3}, 16));
  ASSERT_TRUE(kernel.ok()) << kernel.error().message();
  EXPECT_EQ(kernel->entry, 0x1000000u);
  EXPECT_EQ(kernel->end, 0x1000010u);
  EXPECT_FALSE(kernel->header.has_value());
  EXPECT_EQ(ram_[0x1000000 + 2], 3);
  EXPECT_EQ(ram_[0x1000000 + 5], 0);
}

TEST_F(KernelLoaderTest, RejectsHostileElf) {
  // Segment beyond guest memory.
  EXPECT_FALSE(LoadKernel(memory_, Elf(0x7ffff000, 0x7ffff000, {1})).ok());
  // Segment over the boot structures below 1 MiB.
  EXPECT_FALSE(LoadKernel(memory_, Elf(0x7000, 0x7000, {1})).ok());
  // Entry outside every segment.
  EXPECT_FALSE(LoadKernel(memory_, Elf(0x1000000, 0x5000000, {1})).ok());
  // filesz reaching past the end of the file.
  auto image = Elf(0x1000000, 0x1000000, {1, 2});
  image.resize(image.size() - 1);
  EXPECT_FALSE(LoadKernel(memory_, image).ok());
  // Truncated header.
  image.resize(20);
  EXPECT_FALSE(LoadKernel(memory_, image).ok());
  // Wrong machine.
  image = Elf(0x1000000, 0x1000000, {1});
  reinterpret_cast<Elf64_Ehdr*>(image.data())->e_machine = EM_AARCH64;
  EXPECT_FALSE(LoadKernel(memory_, image).ok());
}

std::vector<uint8_t> BzImage(uint16_t version, uint16_t xloadflags, size_t code_bytes) {
  std::vector<uint8_t> image(5 * 512 + code_bytes, 0x90);
  setup_header header{};
  header.setup_sects = 4;
  header.boot_flag = 0xaa55;
  header.header = 0x53726448;
  header.version = version;
  header.loadflags = LOADED_HIGH;
  header.xloadflags = xloadflags;
  header.init_size = 0x100000;
  std::memcpy(image.data() + 0x1f1, &header, sizeof(header));
  return image;
}

TEST_F(KernelLoaderTest, LoadsBzImageAt1MiBWith64BitEntry) {
  auto kernel = LoadKernel(memory_, BzImage(0x020f, 1, 4096));
  ASSERT_TRUE(kernel.ok()) << kernel.error().message();
  EXPECT_EQ(kernel->entry, 0x100000u + 0x200);
  EXPECT_EQ(kernel->end, 0x100000u + 0x100000);  // init_size
  ASSERT_TRUE(kernel->header.has_value());
  EXPECT_EQ(kernel->header->version, 0x020f);
  EXPECT_EQ(ram_[0x100000], 0x90);
}

TEST_F(KernelLoaderTest, RejectsOldOr32BitOnlyBzImage) {
  EXPECT_FALSE(LoadKernel(memory_, BzImage(0x0206, 1, 4096)).ok());
  EXPECT_FALSE(LoadKernel(memory_, BzImage(0x020f, 0, 4096)).ok());
  auto truncated = BzImage(0x020f, 1, 0);
  EXPECT_FALSE(LoadKernel(memory_, truncated).ok());
  std::vector<uint8_t> garbage(4096, 0x42);
  EXPECT_FALSE(LoadKernel(memory_, garbage).ok());
}

}  // namespace
}  // namespace vk
