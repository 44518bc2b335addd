#include "kvm/kvm.h"

#include <fcntl.h>
#include <sys/ioctl.h>

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
  kvm_regs regs{};
  VK_TRY(Ioctl(fd_.get(), KVM_GET_REGS, &regs, "KVM_GET_REGS"));
  return regs;
}

Result<void> Vcpu::SetRegs(const kvm_regs& regs) {
  return Ioctl(fd_.get(), KVM_SET_REGS, &regs, "KVM_SET_REGS");
}

Result<kvm_sregs> Vcpu::GetSregs() const {
  kvm_sregs sregs{};
  VK_TRY(Ioctl(fd_.get(), KVM_GET_SREGS, &sregs, "KVM_GET_SREGS"));
  return sregs;
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
  kvm_lapic_state state{};
  VK_TRY(Ioctl(fd_.get(), KVM_GET_LAPIC, &state, "KVM_GET_LAPIC"));
  return state;
}

}  // namespace vk::kvm
