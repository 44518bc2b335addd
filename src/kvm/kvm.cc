#include "kvm/kvm.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>

#include "base/strings.h"

namespace vk::kvm {
namespace {

// Debian's linux-libc-dev declares the flexible arrays of kvm_cpuid2 and
// kvm_msrs with __DECLARE_FLEX_ARRAY, which in C++ moves `entries` and grows
// the structs, and so also changes the ioctl numbers derived from their size.
// We lay these out as the kernel ABI (C) does: an 8-byte header, then entries.
struct ListHeader {
  uint32_t count;
  uint32_t padding;
};
static_assert(sizeof(ListHeader) == 8);
constexpr unsigned long kGetSupportedCpuid =
    _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x05, sizeof(ListHeader));
constexpr unsigned long kSetCpuid2 = _IOC(_IOC_WRITE, KVMIO, 0x90, sizeof(ListHeader));
constexpr unsigned long kSetMsrs = _IOC(_IOC_WRITE, KVMIO, 0x89, sizeof(ListHeader));
constexpr unsigned long kGetMsrs = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x88, sizeof(ListHeader));
constexpr unsigned long kGetCpuid2 = _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x91, sizeof(ListHeader));
// struct kvm_msr_list is a u32 count then the indices.
constexpr unsigned long kGetMsrIndexList =
    _IOC(_IOC_READ | _IOC_WRITE, KVMIO, 0x02, sizeof(uint32_t));
// struct kvm_xsave: 4096 bytes in the C ABI (the C++ flex array differs).
constexpr unsigned long kGetXsave = _IOC(_IOC_READ, KVMIO, 0xa4, kXsaveLegacySize);
constexpr unsigned long kSetXsave = _IOC(_IOC_WRITE, KVMIO, 0xa5, kXsaveLegacySize);
constexpr unsigned long kGetXsave2 = _IOC(_IOC_READ, KVMIO, 0xcf, kXsaveLegacySize);
// KVM reports a few hundred MSRs at most; the ioctl says E2BIG past this.
constexpr uint32_t kMaxMsrIndices = 1024;

// A header + entries buffer in the kernel's layout.
template <typename Entry>
std::vector<uint8_t> MakeList(const Entry* entries, size_t count) {
  std::vector<uint8_t> buffer(sizeof(ListHeader) + count * sizeof(Entry));
  ListHeader header{static_cast<uint32_t>(count), 0};
  std::memcpy(buffer.data(), &header, sizeof(header));
  if (count != 0) std::memcpy(buffer.data() + sizeof(header), entries, count * sizeof(Entry));
  return buffer;
}

// KVM_CPUID entries are bounded by the host; 256 is plenty (leaves + subleaves).
constexpr int kMaxCpuidEntries = 256;

Result<void> Ioctl(int fd, unsigned long request, const void* arg, const char* what) {
  if (::ioctl(fd, request, arg) < 0) return Error::FromErrno(what);
  return Ok();
}

// A KVM_GET_* ioctl that fills one struct.
template <typename T>
Result<T> GetStruct(int fd, unsigned long request, const char* what) {
  T value{};
  VK_TRY(Ioctl(fd, request, &value, what));
  return value;
}

}  // namespace

Result<System> System::Open(const char* path) {
  UniqueFd fd(::open(path, O_RDWR | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    std::string message = std::string("cannot open ") + path + ": " + std::strerror(err);
    if (err == ENOENT) {
      message +=
          " (KVM is not available: enable virtualization in the firmware or load "
          "kvm_intel/kvm_amd)";
    } else if (err == EACCES || err == EPERM) {
      message += " (add yourself to the kvm group: sudo usermod -aG kvm $USER, then log in again)";
    }
    return Error(message, err);
  }
  int version = ::ioctl(fd.get(), KVM_GET_API_VERSION, 0);
  if (version != KVM_API_VERSION) {
    return Error("unsupported KVM API version " + std::to_string(version) + " (need " +
                 std::to_string(KVM_API_VERSION) + ")");
  }
  return System(std::move(fd));
}

int System::CheckExtension(int capability) const {
  int value = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, capability);
  return value < 0 ? 0 : value;
}

Result<int> System::VcpuMmapSize() const {
  int size = ::ioctl(fd_.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
  if (size <= 0) return Error::FromErrno("KVM_GET_VCPU_MMAP_SIZE");
  return size;
}

Result<std::unique_ptr<Vm>> System::CreateVm() const {
  int mmap_size = VK_TRY(VcpuMmapSize());
  int vm = ::ioctl(fd_.get(), KVM_CREATE_VM, 0);
  if (vm < 0) return Error::FromErrno("KVM_CREATE_VM");
  return std::make_unique<Vm>(UniqueFd(vm), mmap_size);
}

Result<CpuidEntries> System::SupportedCpuid() const {
  std::vector<kvm_cpuid_entry2> room(kMaxCpuidEntries);
  std::vector<uint8_t> buffer = MakeList(room.data(), room.size());
  VK_TRY(Ioctl(fd_.get(), kGetSupportedCpuid, buffer.data(), "KVM_GET_SUPPORTED_CPUID"));
  ListHeader header;
  std::memcpy(&header, buffer.data(), sizeof(header));
  CpuidEntries entries(std::min<uint32_t>(header.count, kMaxCpuidEntries));
  std::memcpy(entries.data(), buffer.data() + sizeof(header),
              entries.size() * sizeof(kvm_cpuid_entry2));
  return entries;
}

Result<std::vector<uint32_t>> System::MsrIndexList() const {
  std::vector<uint32_t> buffer(1 + kMaxMsrIndices);
  buffer[0] = kMaxMsrIndices;
  VK_TRY(Ioctl(fd_.get(), kGetMsrIndexList, buffer.data(), "KVM_GET_MSR_INDEX_LIST"));
  uint32_t count = std::min(buffer[0], kMaxMsrIndices);
  return std::vector<uint32_t>(buffer.begin() + 1, buffer.begin() + 1 + count);
}

size_t System::XsaveSize() const {
  if (CheckExtension(KVM_CAP_XSAVE) <= 0) return 0;
  int size = CheckExtension(KVM_CAP_XSAVE2);
  return std::max<size_t>(kXsaveLegacySize, size > 0 ? static_cast<size_t>(size) : 0);
}

Result<void> Vm::SetUserMemoryRegion(uint32_t slot, uint64_t guest_address, uint64_t size,
                                     void* host) {
  kvm_userspace_memory_region region{};
  region.slot = slot;
  region.guest_phys_addr = guest_address;
  region.memory_size = size;
  region.userspace_addr = reinterpret_cast<uint64_t>(host);
  return Ioctl(fd_.get(), KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");
}

Result<void> Vm::SetTssAddress(uint64_t address) {
  if (::ioctl(fd_.get(), KVM_SET_TSS_ADDR, address) < 0) {
    return Error::FromErrno("KVM_SET_TSS_ADDR");
  }
  return Ok();
}

Result<void> Vm::SetIdentityMapAddress(uint64_t address) {
  return Ioctl(fd_.get(), KVM_SET_IDENTITY_MAP_ADDR, &address, "KVM_SET_IDENTITY_MAP_ADDR");
}

Result<void> Vm::CreateIrqchip() {
  if (::ioctl(fd_.get(), KVM_CREATE_IRQCHIP, 0) < 0) return Error::FromErrno("KVM_CREATE_IRQCHIP");
  return Ok();
}

Result<void> Vm::CreatePit() {
  kvm_pit_config config{};
  config.flags = KVM_PIT_SPEAKER_DUMMY;
  return Ioctl(fd_.get(), KVM_CREATE_PIT2, &config, "KVM_CREATE_PIT2");
}

Result<void> Vm::AddIrqfd(int eventfd, uint32_t gsi) {
  kvm_irqfd irqfd{};
  irqfd.fd = static_cast<uint32_t>(eventfd);
  irqfd.gsi = gsi;
  return Ioctl(fd_.get(), KVM_IRQFD, &irqfd, "KVM_IRQFD");
}

Result<void> Vm::AddIoeventfd(int eventfd, uint64_t address, uint32_t length, uint64_t datamatch) {
  kvm_ioeventfd ioeventfd{};
  ioeventfd.datamatch = datamatch;
  ioeventfd.addr = address;
  ioeventfd.len = length;
  ioeventfd.fd = eventfd;
  ioeventfd.flags = KVM_IOEVENTFD_FLAG_DATAMATCH;
  return Ioctl(fd_.get(), KVM_IOEVENTFD, &ioeventfd, "KVM_IOEVENTFD");
}

Result<void> Vm::SetIrqLine(uint32_t irq, bool level) {
  kvm_irq_level line{};
  line.irq = irq;
  line.level = level ? 1 : 0;
  return Ioctl(fd_.get(), KVM_IRQ_LINE, &line, "KVM_IRQ_LINE");
}

Result<kvm_clock_data> Vm::GetClock() const {
  return GetStruct<kvm_clock_data>(fd_.get(), KVM_GET_CLOCK, "KVM_GET_CLOCK");
}

Result<void> Vm::SetClock(const kvm_clock_data& clock) {
  // Only the clock value is ours to set (flags/realtime are outputs).
  kvm_clock_data in{};
  in.clock = clock.clock;
  return Ioctl(fd_.get(), KVM_SET_CLOCK, &in, "KVM_SET_CLOCK");
}

Result<kvm_irqchip> Vm::GetIrqchip(uint32_t chip_id) const {
  kvm_irqchip chip{};
  chip.chip_id = chip_id;
  VK_TRY(Ioctl(fd_.get(), KVM_GET_IRQCHIP, &chip, "KVM_GET_IRQCHIP"));
  return chip;
}

Result<void> Vm::SetIrqchip(const kvm_irqchip& chip) {
  return Ioctl(fd_.get(), KVM_SET_IRQCHIP, &chip, "KVM_SET_IRQCHIP");
}

Result<kvm_pit_state2> Vm::GetPit() const {
  return GetStruct<kvm_pit_state2>(fd_.get(), KVM_GET_PIT2, "KVM_GET_PIT2");
}

Result<void> Vm::SetPit(const kvm_pit_state2& pit) {
  return Ioctl(fd_.get(), KVM_SET_PIT2, &pit, "KVM_SET_PIT2");
}

Result<std::unique_ptr<Vcpu>> Vm::CreateVcpu(uint32_t id) {
  UniqueFd vcpu(::ioctl(fd_.get(), KVM_CREATE_VCPU, id));
  if (!vcpu) return Error::FromErrno("KVM_CREATE_VCPU " + std::to_string(id));
  auto run = VK_TRY_CTX(MappedRegion::File(vcpu.get(), vcpu_mmap_size_, true), "map kvm_run");
  return std::make_unique<Vcpu>(std::move(vcpu), std::move(run), id);
}

Result<void> Vcpu::Run() {
  if (::ioctl(fd_.get(), KVM_RUN, 0) < 0) return Error::FromErrno("KVM_RUN");
  return Ok();
}

Result<kvm_regs> Vcpu::GetRegs() const {
  return GetStruct<kvm_regs>(fd_.get(), KVM_GET_REGS, "KVM_GET_REGS");
}

Result<void> Vcpu::SetRegs(const kvm_regs& regs) {
  return Ioctl(fd_.get(), KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

Result<kvm_sregs> Vcpu::GetSregs() const {
  return GetStruct<kvm_sregs>(fd_.get(), KVM_GET_SREGS, "KVM_GET_SREGS");
}

Result<void> Vcpu::SetSregs(const kvm_sregs& sregs) {
  return Ioctl(fd_.get(), KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
}

Result<void> Vcpu::SetFpu(const kvm_fpu& fpu) {
  return Ioctl(fd_.get(), KVM_SET_FPU, &fpu, "KVM_SET_FPU");
}

Result<void> Vcpu::SetCpuid(const CpuidEntries& entries) {
  std::vector<uint8_t> buffer = MakeList(entries.data(), entries.size());
  return Ioctl(fd_.get(), kSetCpuid2, buffer.data(), "KVM_SET_CPUID2");
}

Result<void> Vcpu::SetMsrs(const std::vector<std::pair<uint32_t, uint64_t>>& msrs) {
  std::vector<kvm_msr_entry> entries(msrs.size());
  for (size_t i = 0; i < msrs.size(); ++i) {
    entries[i].index = msrs[i].first;
    entries[i].data = msrs[i].second;
  }
  std::vector<uint8_t> list = MakeList(entries.data(), entries.size());
  int set = ::ioctl(fd_.get(), kSetMsrs, list.data());
  if (set < 0) return Error::FromErrno("KVM_SET_MSRS");
  if (static_cast<size_t>(set) != msrs.size()) {
    return Error("KVM refused MSR 0x" + ToHex(msrs[set].first));
  }
  return Ok();
}

Result<void> Vcpu::SetLapic(const kvm_lapic_state& state) {
  return Ioctl(fd_.get(), KVM_SET_LAPIC, &state, "KVM_SET_LAPIC");
}

Result<kvm_lapic_state> Vcpu::GetLapic() const {
  return GetStruct<kvm_lapic_state>(fd_.get(), KVM_GET_LAPIC, "KVM_GET_LAPIC");
}

Result<CpuidEntries> Vcpu::GetCpuid() const {
  std::vector<kvm_cpuid_entry2> room(kMaxCpuidEntries);
  std::vector<uint8_t> buffer = MakeList(room.data(), room.size());
  VK_TRY(Ioctl(fd_.get(), kGetCpuid2, buffer.data(), "KVM_GET_CPUID2"));
  ListHeader header;
  std::memcpy(&header, buffer.data(), sizeof(header));
  CpuidEntries entries(std::min<uint32_t>(header.count, kMaxCpuidEntries));
  std::memcpy(entries.data(), buffer.data() + sizeof(header),
              entries.size() * sizeof(kvm_cpuid_entry2));
  return entries;
}

Result<kvm_sregs2> Vcpu::GetSregs2() const {
  return GetStruct<kvm_sregs2>(fd_.get(), KVM_GET_SREGS2, "KVM_GET_SREGS2");
}

Result<void> Vcpu::SetSregs2(const kvm_sregs2& sregs) {
  return Ioctl(fd_.get(), KVM_SET_SREGS2, &sregs, "KVM_SET_SREGS2");
}

Result<kvm_fpu> Vcpu::GetFpu() const {
  return GetStruct<kvm_fpu>(fd_.get(), KVM_GET_FPU, "KVM_GET_FPU");
}

Result<std::vector<uint8_t>> Vcpu::GetXsave(size_t size) const {
  std::vector<uint8_t> state(std::max(size, kXsaveLegacySize));
  bool extended = state.size() > kXsaveLegacySize;
  VK_TRY(Ioctl(fd_.get(), extended ? kGetXsave2 : kGetXsave, state.data(),
               extended ? "KVM_GET_XSAVE2" : "KVM_GET_XSAVE"));
  return state;
}

Result<void> Vcpu::SetXsave(const std::vector<uint8_t>& state) {
  // KVM_SET_XSAVE reads as many bytes as KVM_CAP_XSAVE2 reported.
  if (state.size() < kXsaveLegacySize) return Error("saved XSAVE state is too short");
  return Ioctl(fd_.get(), kSetXsave, state.data(), "KVM_SET_XSAVE");
}

Result<kvm_xcrs> Vcpu::GetXcrs() const {
  return GetStruct<kvm_xcrs>(fd_.get(), KVM_GET_XCRS, "KVM_GET_XCRS");
}

Result<void> Vcpu::SetXcrs(const kvm_xcrs& xcrs) {
  return Ioctl(fd_.get(), KVM_SET_XCRS, &xcrs, "KVM_SET_XCRS");
}

Result<MsrList> Vcpu::GetMsrs(const std::vector<uint32_t>& indices) const {
  // KVM_GET_MSRS stops at the first MSR it cannot read and returns how many
  // it did: skip that one and go on from the next.
  MsrList values;
  size_t next = 0;
  while (next < indices.size()) {
    std::vector<kvm_msr_entry> entries(indices.size() - next);
    for (size_t i = 0; i < entries.size(); ++i) entries[i].index = indices[next + i];
    std::vector<uint8_t> list = MakeList(entries.data(), entries.size());
    int got = ::ioctl(fd_.get(), kGetMsrs, list.data());
    if (got < 0) return Error::FromErrno("KVM_GET_MSRS");
    std::memcpy(entries.data(), list.data() + sizeof(ListHeader),
                entries.size() * sizeof(kvm_msr_entry));
    for (int i = 0; i < got; ++i) values.emplace_back(entries[i].index, entries[i].data);
    next += static_cast<size_t>(got) + 1;  // + the refused one
  }
  return values;
}

Result<kvm_vcpu_events> Vcpu::GetEvents() const {
  return GetStruct<kvm_vcpu_events>(fd_.get(), KVM_GET_VCPU_EVENTS, "KVM_GET_VCPU_EVENTS");
}

Result<void> Vcpu::SetEvents(const kvm_vcpu_events& events) {
  return Ioctl(fd_.get(), KVM_SET_VCPU_EVENTS, &events, "KVM_SET_VCPU_EVENTS");
}

Result<kvm_mp_state> Vcpu::GetMpState() const {
  return GetStruct<kvm_mp_state>(fd_.get(), KVM_GET_MP_STATE, "KVM_GET_MP_STATE");
}

Result<void> Vcpu::SetMpState(const kvm_mp_state& state) {
  return Ioctl(fd_.get(), KVM_SET_MP_STATE, &state, "KVM_SET_MP_STATE");
}

Result<kvm_debugregs> Vcpu::GetDebugRegs() const {
  return GetStruct<kvm_debugregs>(fd_.get(), KVM_GET_DEBUGREGS, "KVM_GET_DEBUGREGS");
}

Result<void> Vcpu::SetDebugRegs(const kvm_debugregs& regs) {
  return Ioctl(fd_.get(), KVM_SET_DEBUGREGS, &regs, "KVM_SET_DEBUGREGS");
}

Result<uint32_t> Vcpu::GetTscKhz() const {
  int khz = ::ioctl(fd_.get(), KVM_GET_TSC_KHZ, 0);
  if (khz < 0) return Error::FromErrno("KVM_GET_TSC_KHZ");
  return static_cast<uint32_t>(khz);
}

Result<void> Vcpu::SetTscKhz(uint32_t khz) {
  if (::ioctl(fd_.get(), KVM_SET_TSC_KHZ, static_cast<unsigned long>(khz)) < 0) {
    return Error::FromErrno("KVM_SET_TSC_KHZ " + std::to_string(khz));
  }
  return Ok();
}

Result<void> Vcpu::NotifyClockPaused() {
  if (::ioctl(fd_.get(), KVM_KVMCLOCK_CTRL, 0) < 0 && errno != EINVAL) {
    return Error::FromErrno("KVM_KVMCLOCK_CTRL");
  }
  return Ok();
}

}  // namespace vk::kvm
