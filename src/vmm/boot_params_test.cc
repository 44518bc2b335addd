#include "vmm/boot_params.h"

#include <gtest/gtest.h>

#include <vector>

#include "vmm/layout.h"

namespace vk {
namespace {

TEST(E820Test, LowRamReservesEbdaAndBios) {
  std::vector<uint8_t> ram(1);  // host backing is irrelevant for the map
  GuestMemory memory = GuestMemory::Wrap({{0, ram.data(), 256ull << 20}});
  auto map = BuildE820(memory);
  ASSERT_EQ(map.size(), 3u);
  EXPECT_EQ(map[0].address, 0u);
  EXPECT_EQ(map[0].size, layout::kEbdaStart);
  EXPECT_EQ(map[0].type, 1u);
  EXPECT_EQ(map[1].address, layout::kEbdaStart);
  EXPECT_EQ(map[1].size, layout::kBiosEnd - layout::kEbdaStart);
  EXPECT_EQ(map[1].type, 2u);
  EXPECT_EQ(map[2].address, layout::kBiosEnd);
  EXPECT_EQ(map[2].address + map[2].size, 256ull << 20);
  EXPECT_EQ(map[2].type, 1u);
}

TEST(E820Test, MemoryAbove4GiBIsItsOwnRange) {
  std::vector<uint8_t> ram(1);
  GuestMemory memory = GuestMemory::Wrap(
      {{0, ram.data(), layout::kMmioHoleStart}, {layout::kMmioHoleEnd, ram.data(), 1ull << 30}});
  auto map = BuildE820(memory);
  ASSERT_EQ(map.size(), 4u);
  EXPECT_EQ(map[2].address + map[2].size, layout::kMmioHoleStart);
  EXPECT_EQ(map[3].address, layout::kMmioHoleEnd);
  EXPECT_EQ(map[3].size, 1ull << 30);
}

// Fields per Documentation/x86/boot.rst and zero-page.rst.
TEST(BootParamsTest, SynthesizedHeaderForElfKernels) {
  BootParamsInput input;
  input.cmdline_address = layout::kCmdline;
  input.cmdline_size = 42;
  input.initrd_address = 0x7000000;
  input.initrd_size = 12345;
  input.e820 = {{0, 0x9fc00, 1}, {0x100000, 0x1000000, 1}};
  auto params = BuildBootParams(input);
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->hdr.boot_flag, 0xaa55);
  EXPECT_EQ(params->hdr.header, 0x53726448u);  // "HdrS"
  EXPECT_EQ(params->hdr.type_of_loader, 0xff);
  EXPECT_EQ(params->hdr.cmd_line_ptr, layout::kCmdline);
  EXPECT_EQ(params->ext_cmd_line_ptr, 0u);
  EXPECT_EQ(params->hdr.cmdline_size, 42u);
  EXPECT_EQ(params->hdr.ramdisk_image, 0x7000000u);
  EXPECT_EQ(params->hdr.ramdisk_size, 12345u);
  EXPECT_EQ(params->e820_entries, 2);
  EXPECT_EQ(params->e820_table[1].addr, 0x100000u);
  EXPECT_EQ(offsetof(boot_params, hdr), 0x1f1u);
  EXPECT_EQ(offsetof(boot_params, e820_table), 0x2d0u);
  EXPECT_EQ(sizeof(boot_params), 4096u);
}

TEST(BootParamsTest, KeepsBzImageHeaderFields) {
  setup_header header{};
  header.header = 0x53726448;
  header.version = 0x020f;
  header.initrd_addr_max = 0x7fffffff;
  header.kernel_alignment = 0x200000;
  BootParamsInput input;
  input.kernel_header = header;
  auto params = BuildBootParams(input);
  ASSERT_TRUE(params.ok());
  EXPECT_EQ(params->hdr.version, 0x020f);
  EXPECT_EQ(params->hdr.kernel_alignment, 0x200000u);
  EXPECT_EQ(params->hdr.type_of_loader, 0xff);
}

TEST(BootParamsTest, RejectsTooManyE820Entries) {
  BootParamsInput input;
  input.e820.resize(E820_MAX_ENTRIES_ZEROPAGE + 1);
  EXPECT_FALSE(BuildBootParams(input).ok());
}

TEST(PlaceInitrdTest, HighestPageAlignedSpotAboveTheKernel) {
  std::vector<uint8_t> ram(1);
  GuestMemory memory = GuestMemory::Wrap({{0, ram.data(), 128ull << 20}});
  auto address = PlaceInitrd(memory, 10000, 32ull << 20, 0x7fffffff);
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(*address % 4096, 0u);
  EXPECT_LE(*address + 10000, 128ull << 20);
  EXPECT_GE(*address, 32ull << 20);
  EXPECT_FALSE(PlaceInitrd(memory, 100ull << 20, 32ull << 20, 0x7fffffff).ok());
}

}  // namespace
}  // namespace vk
