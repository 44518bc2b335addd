#include "vmm/kernel_loader.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace vk {
namespace {

class KernelLoaderTest : public ::testing::Test {
 protected:
  KernelLoaderTest()
      : ram_(64 << 20), memory_(GuestMemory::Wrap({{0, ram_.data(), ram_.size()}})) {}

  // A minimal ELF kernel: one PT_LOAD of `payload` at `paddr`, entry `entry`.
  std::vector<uint8_t> Elf(uint64_t paddr, uint64_t entry, const std::vector<uint8_t>& payload,
                           uint64_t memsz = 0) {
    std::vector<uint8_t> image(sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + payload.size());
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_entry = entry;
    eh.e_phoff = sizeof(Elf64_Ehdr);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = 1;
    Elf64_Phdr ph{};
    ph.p_type = PT_LOAD;
    ph.p_offset = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
    ph.p_paddr = paddr;
    ph.p_filesz = payload.size();
    ph.p_memsz = memsz ? memsz : payload.size();
    std::memcpy(image.data(), &eh, sizeof(eh));
    std::memcpy(image.data() + sizeof(eh), &ph, sizeof(ph));
    std::memcpy(image.data() + ph.p_offset, payload.data(), payload.size());
    return image;
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
