#include "vmm/boot_params.h"

#include <cstring>

#include "vmm/layout.h"

namespace vk {
namespace {

constexpr uint32_t kE820Ram = 1;
constexpr uint32_t kE820Reserved = 2;
constexpr uint16_t kBootFlag = 0xaa55;
constexpr uint32_t kHdrSMagic = 0x53726448;
constexpr uint8_t kLoaderUndefined = 0xff;  // boot.rst: type_of_loader "undefined"
constexpr uint16_t kBootProtocol = 0x020f;
constexpr uint32_t kKernelAlignment = 0x1000000;
constexpr uint64_t kPageSize = 4096;

setup_header SynthesizedHeader() {
  setup_header header{};
  header.boot_flag = kBootFlag;
  header.header = kHdrSMagic;
  header.version = kBootProtocol;
  header.kernel_alignment = kKernelAlignment;
  header.loadflags = LOADED_HIGH;
  return header;
}

}  // namespace

std::vector<E820Entry> BuildE820(const GuestMemory& memory) {
  std::vector<E820Entry> map;
  for (const GuestMemory::Range& range : memory.ranges()) {
    uint64_t start = range.guest_address;
    uint64_t end = range.guest_address + range.size;
    if (start < layout::kEbdaStart) {
      map.push_back({start, std::min(end, layout::kEbdaStart) - start, kE820Ram});
      map.push_back({layout::kEbdaStart, layout::kBiosEnd - layout::kEbdaStart, kE820Reserved});
      start = layout::kBiosEnd;
    }
    if (end > start) map.push_back({start, end - start, kE820Ram});
  }
  return map;
}

Result<boot_params> BuildBootParams(const BootParamsInput& input) {
  if (input.e820.size() > E820_MAX_ENTRIES_ZEROPAGE) return Error("too many e820 entries");
  boot_params params{};
  params.hdr = input.kernel_header.value_or(SynthesizedHeader());
  params.hdr.type_of_loader = kLoaderUndefined;
  params.hdr.cmd_line_ptr = static_cast<uint32_t>(input.cmdline_address);
  params.ext_cmd_line_ptr = static_cast<uint32_t>(input.cmdline_address >> 32);
  params.hdr.cmdline_size = input.cmdline_size;
  params.hdr.ramdisk_image = static_cast<uint32_t>(input.initrd_address);
  params.ext_ramdisk_image = static_cast<uint32_t>(input.initrd_address >> 32);
  params.hdr.ramdisk_size = input.initrd_size;
  params.e820_entries = static_cast<uint8_t>(input.e820.size());
  for (size_t i = 0; i < input.e820.size(); ++i) {
    params.e820_table[i].addr = input.e820[i].address;
    params.e820_table[i].size = input.e820[i].size;
    params.e820_table[i].type = input.e820[i].type;
  }
  return params;
}

Result<uint64_t> PlaceInitrd(const GuestMemory& memory, uint64_t size, uint64_t kernel_end,
                             uint64_t initrd_addr_max) {
  uint64_t limit = std::min<uint64_t>(initrd_addr_max == 0 ? 0x37ffffff : initrd_addr_max,
                                      layout::kMmioHoleStart - 1) +
                   1;
  for (const GuestMemory::Range& range : memory.ranges()) {
    if (range.guest_address >= limit) continue;
    uint64_t top = std::min(range.guest_address + range.size, limit);
    if (top < size) continue;
    uint64_t address = (top - size) & ~(kPageSize - 1);
    uint64_t floor = std::max(range.guest_address, kernel_end);
    if (address >= floor) return address;
  }
  return Error("initrd of " + std::to_string(size) + " bytes does not fit in guest memory");
}

}  // namespace vk
