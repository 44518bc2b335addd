#include "vmm/mptable.h"

#include <cstring>
#include <string>

#include "vmm/layout.h"

namespace vk {
namespace {

// Entry types and sizes, MP spec 1.4 §4.3 table 4-3.
enum EntryType : uint8_t {
  kProcessor = 0,
  kBus = 1,
  kIoApic = 2,
  kIoInterrupt = 3,
  kLocalInterrupt = 4,
};
enum InterruptType : uint8_t { kInt = 0, kNmi = 1, kExtInt = 3 };

constexpr uint8_t kLocalApicVersion = 0x14;
constexpr uint8_t kIoApicVersion = 0x11;
constexpr uint8_t kCpuEnabled = 1 << 0;
constexpr uint8_t kCpuBootstrap = 1 << 1;
constexpr uint32_t kCpuSignature = 0x600;  // family 6: a generic modern CPU
constexpr uint32_t kCpuFeatures = 0x201;   // FPU | APIC (CPUID.1:EDX)
constexpr uint8_t kSpecRevision = 4;       // MP spec 1.4
constexpr uint8_t kAllLocalApics = 0xff;

class Writer {
 public:
  void U8(uint8_t v) { bytes_.push_back(v); }
  void U16(uint16_t v) { Raw(&v, 2); }
  void U32(uint32_t v) { Raw(&v, 4); }
  void Text(const char* text, size_t width) {  // space-padded, not NUL-terminated
    size_t len = std::strlen(text);
    for (size_t i = 0; i < width; ++i) U8(i < len ? static_cast<uint8_t>(text[i]) : ' ');
  }
  void Zeros(size_t n) { bytes_.insert(bytes_.end(), n, 0); }
  size_t size() const { return bytes_.size(); }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  void Raw(const void* p, size_t n) {
    auto* b = static_cast<const uint8_t*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
  }
  std::vector<uint8_t> bytes_;
};

// Sum of all bytes must be 0 (mod 256), MP spec §4.1 / §4.2.
uint8_t Checksum(const uint8_t* data, size_t size) {
  uint8_t sum = 0;
  for (size_t i = 0; i < size; ++i) sum += data[i];
  return static_cast<uint8_t>(-sum);
}

void WriteEntries(Writer& w, uint32_t cpus, uint8_t ioapic_id) {
  for (uint32_t cpu = 0; cpu < cpus; ++cpu) {
    w.U8(kProcessor);
    w.U8(static_cast<uint8_t>(cpu));  // local APIC ID
    w.U8(kLocalApicVersion);
    w.U8(kCpuEnabled | (cpu == 0 ? kCpuBootstrap : 0));
    w.U32(kCpuSignature);
    w.U32(kCpuFeatures);
    w.Zeros(8);
  }
  w.U8(kBus);
  w.U8(0);  // bus ID
  w.Text("ISA", 6);
  w.U8(kIoApic);
  w.U8(ioapic_id);
  w.U8(kIoApicVersion);
  w.U8(1);  // enabled
  w.U32(static_cast<uint32_t>(layout::kIoapic));
  // ISA IRQ n -> I/O APIC pin n, as KVM's default GSI routing wires them.
  for (uint8_t pin = 0; pin < kIoapicPins; ++pin) {
    w.U8(kIoInterrupt);
    w.U8(kInt);
    w.U16(0);  // conforms to bus: edge, active high
    w.U8(0);   // source bus
    w.U8(pin);
    w.U8(ioapic_id);
    w.U8(pin);
  }
  // LINT0 = ExtINT (legacy PIC), LINT1 = NMI, on every local APIC.
  for (uint8_t lint = 0; lint < 2; ++lint) {
    w.U8(kLocalInterrupt);
    w.U8(lint == 0 ? kExtInt : kNmi);
    w.U16(0);
    w.U8(0);
    w.U8(0);
    w.U8(kAllLocalApics);
    w.U8(lint);
  }
}

}  // namespace

Result<std::vector<uint8_t>> BuildMpTable(uint32_t cpus, uint64_t address) {
  if (cpus == 0 || cpus > kMaxVcpus) {
    return Error("vCPU count " + std::to_string(cpus) + " is outside 1.." +
                 std::to_string(kMaxVcpus));
  }
  constexpr size_t kFloatingSize = 16;
  constexpr size_t kHeaderSize = 44;
  uint8_t ioapic_id = static_cast<uint8_t>(cpus + 1);
  Writer w;
  // Floating pointer structure (§4.1), config table right behind it.
  w.Text("_MP_", 4);
  w.U32(static_cast<uint32_t>(address + kFloatingSize));
  w.U8(1);  // length in 16-byte units
  w.U8(kSpecRevision);
  w.U8(0);     // checksum, patched below
  w.Zeros(5);  // feature bytes: 0 = a configuration table is present
  // Configuration table header (§4.2).
  w.Text("PCMP", 4);
  w.U16(0);  // base table length, patched below
  w.U8(kSpecRevision);
  w.U8(0);  // checksum, patched below
  w.Text("VIRTKIT", 8);
  w.Text("MICROVM", 12);
  w.U32(0);                                                  // OEM table pointer
  w.U16(0);                                                  // OEM table size
  w.U16(static_cast<uint16_t>(cpus + 2 + kIoapicPins + 2));  // entry count
  w.U32(static_cast<uint32_t>(layout::kLapic));
  w.U16(0);  // extended table length
  w.U8(0);   // extended table checksum
  w.U8(0);   // reserved
  WriteEntries(w, cpus, ioapic_id);

  std::vector<uint8_t>& bytes = w.bytes();
  uint16_t table_length = static_cast<uint16_t>(bytes.size() - kFloatingSize);
  std::memcpy(&bytes[kFloatingSize + 4], &table_length, 2);
  bytes[kFloatingSize + 7] = Checksum(&bytes[kFloatingSize], table_length);
  bytes[10] = Checksum(bytes.data(), kFloatingSize);
  (void)kHeaderSize;
  return std::move(bytes);
}

Result<void> WriteMpTable(const GuestMemory& memory, uint32_t cpus) {
  auto table = VK_TRY(BuildMpTable(cpus, layout::kEbdaStart));
  return memory.WriteBytes(layout::kEbdaStart, table).Context("write MP table");
}

}  // namespace vk
