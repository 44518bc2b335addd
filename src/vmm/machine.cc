#include "vmm/machine.h"

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#include <cstring>

#include "base/log.h"
#include "base/mapped_resident.h"
#include "base/state_stream.h"
#include "base/strings.h"
#include "base/thread_role.h"
#include "vmm/boot_params.h"
#include "vmm/cpu_state.h"
#include "vmm/kernel_loader.h"
#include "vmm/layout.h"
#include "vmm/mptable.h"
#include "vmm/x86_boot_cpu.h"

namespace vk {
namespace {

// vCPU threads are kicked out of KVM_RUN with this signal (handler does nothing).
const int kKickSignal = SIGRTMIN + 1;
// How long Pause() waits for the vCPUs and the device thread to stop.
constexpr auto kPauseTimeout = std::chrono::seconds(10);

void InstallKickHandler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_handler = [](int) {};
    sigemptyset(&action.sa_mask);
    ::sigaction(kKickSignal, &action, nullptr);  // no SA_RESTART: KVM_RUN returns EINTR
  });
}

// Irqfd-backed virtio interrupt: a write to the eventfd raises the device's GSI.
class IrqfdInterrupt : public virtio::Interrupt {
 public:
  explicit IrqfdInterrupt(UniqueFd fd) : fd_(std::move(fd)) {}
  void Trigger(Reason) override {
    uint64_t one = 1;
    ssize_t ignored = ::write(fd_.get(), &one, sizeof(one));
    (void)ignored;
  }

 private:
  UniqueFd fd_;
};

// Guest RAM in this process's RSS: pages mapped in its page tables
// (smaps), not mincore, which for the MAP_PRIVATE memory file of a restored
// VM counts page-cache pages this VMM never touched.
uint64_t ResidentBytes(const GuestMemory& memory) {
  uint64_t resident = 0;
  for (const GuestMemory::Range& range : memory.ranges()) {
    resident += MappedResidentBytes(reinterpret_cast<uintptr_t>(range.host), range.size);
  }
  return resident;
}

std::vector<std::pair<uint64_t, uint64_t>> MemoryLayout(uint64_t bytes) {
  uint64_t low = std::min(bytes, layout::kMmioHoleStart);
  std::vector<std::pair<uint64_t, uint64_t>> ranges{{0, low}};
  if (bytes > low) ranges.emplace_back(layout::kMmioHoleEnd, bytes - low);
  return ranges;
}

}  // namespace

struct Machine::VirtioSlot {
  uint64_t base = 0;
  uint32_t irq = 0;
  std::unique_ptr<virtio::MmioTransport> transport;
  std::vector<UniqueFd> notify_fds;  // one ioeventfd per queue
};

Machine::Machine(MachineConfig config) : config_(std::move(config)) {}

Result<std::unique_ptr<Machine>> Machine::Create(const MachineConfig& config) {
  std::unique_ptr<Machine> machine(new Machine(config));
  machine->created_ = std::chrono::steady_clock::now();
  VK_TRY(machine->Init());
  return machine;
}

Machine::~Machine() {
  Stop({ExitKind::kPowerOff, 0, "machine destroyed"});
  for (auto& thread : vcpu_threads_) {
    if (thread.joinable()) thread.join();
  }
  if (loop_) loop_->Stop();
  if (device_thread_.joinable()) device_thread_.join();
}

Result<void> Machine::Init() {
  if (config_.cpus == 0 || config_.cpus > kMaxVcpus) {
    return Error("--cpus must be between 1 and " + std::to_string(kMaxVcpus));
  }
  if (config_.memory_bytes < (64ull << 20)) return Error("--mem must be at least 64M");
  VK_TRY(InitMemory());
  kvm_ = VK_TRY(kvm::System::Open());
  vm_ = VK_TRY(kvm_->CreateVm());
  VK_TRY(vm_->SetTssAddress(layout::kKvmTss));
  VK_TRY(vm_->SetIdentityMapAddress(layout::kKvmIdentityMap));
  VK_TRY(vm_->CreateIrqchip());
  VK_TRY(vm_->CreatePit());
  uint32_t slot = 0;
  for (const GuestMemory::Range& range : memory_.ranges()) {
    VK_TRY(vm_->SetUserMemoryRegion(slot++, range.guest_address, range.size, range.host));
  }
  loop_ = VK_TRY(EventLoop::Create());
  if (restored() && !config_.serial_ports.empty()) {
    return Error("a VM with serial consoles cannot be restored from a snapshot");
  }
  serial_ = VK_TRY(SerialPorts::Create(*vm_, *loop_, config_.console_fd, config_.serial_ports));
  return Ok();
}

Result<void> Machine::InitMemory() {
  if (restored()) {
    // The devices are added later: Start() checks them against the snapshot.
    SnapshotIdentity expected = Identity();
    LoadedSnapshot snapshot = VK_TRY(ReadSnapshot(config_.restore_from, expected));
    memory_ =
        VK_TRY(GuestMemory::MapFile(MemoryLayout(config_.memory_bytes), snapshot.memory.get()));
    restore_state_ = std::move(snapshot.machine_state);
    snapshot_devices_ = std::move(snapshot.identity.devices);
    return Ok();
  }
  memory_ = VK_TRY(GuestMemory::Allocate(MemoryLayout(config_.memory_bytes)));
  // Copying ~12 MB into fresh memory takes as long as the KVM set-up below
  // on a PVM host; on a second core the two overlap.
  preload_ = std::async(std::launch::async, [this] { return PreloadGuest(); });
  return Ok();
}

SnapshotIdentity Machine::Identity() const {
  SnapshotIdentity identity =
      ExpectedSnapshotIdentity(config_.guest_identity, config_.cpus, config_.memory_bytes);
  for (const auto& slot : virtio_) {
    identity.devices.push_back(static_cast<uint32_t>(slot->transport->device().type()));
  }
  return identity;
}

Result<void> Machine::AddVirtioDevice(std::unique_ptr<virtio::VirtioDevice> device) {
  uint32_t index = static_cast<uint32_t>(virtio_.size());
  uint32_t irq = layout::kFirstDeviceIrq + index;
  if (irq > layout::kLastDeviceIrq) return Error("too many virtio devices");
  auto slot = std::make_unique<VirtioSlot>();
  slot->base = layout::kVirtioMmioBase + index * layout::kVirtioMmioSlot;
  slot->irq = irq;
  UniqueFd irq_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!irq_fd) return Error::FromErrno("eventfd");
  VK_TRY_CTX(vm_->AddIrqfd(irq_fd.get(), irq), std::string(device->name()));
  std::string name(device->name());
  slot->transport =
      std::make_unique<virtio::MmioTransport>(std::move(device), &memory_, loop_.get(),
                                              std::make_unique<IrqfdInterrupt>(std::move(irq_fd)));
  virtio::MmioTransport* transport = slot->transport.get();
  for (uint32_t queue = 0; queue < transport->queue_count(); ++queue) {
    UniqueFd notify(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!notify) return Error::FromErrno("eventfd");
    VK_TRY_CTX(vm_->AddIoeventfd(notify.get(), slot->base + virtio::kMmioQueueNotify, 4, queue),
               name);
    int fd = notify.get();
    VK_TRY(loop_->Add(fd, EPOLLIN, [fd, transport, queue](uint32_t) {
      uint64_t count;
      if (::read(fd, &count, sizeof(count)) > 0) transport->Notify(queue);
    }));
    slot->notify_fds.push_back(std::move(notify));
  }
  virtio_.push_back(std::move(slot));
  return Ok();
}

Result<Machine::PreloadedGuest> Machine::PreloadGuest() const {
  // Copying the kernel (~11 MB) and initrd into fresh memory costs one page
  // fault per 4 KiB: 3-4x the copy itself on a nested (PVM) host. Huge pages
  // where they go cut that; the guest uses those pages anyway. The kernel
  // loads at 16 MiB (CONFIG_PHYSICAL_START), inside this window.
  constexpr uint64_t kKernelWindow = 64 << 20;
  memory_.PreferHugePages(0, kKernelWindow);
  PreloadedGuest guest;
  guest.kernel = VK_TRY(LoadKernel(memory_, config_.kernel));
  if (!config_.initrd.empty()) {
    uint64_t max = guest.kernel.header ? guest.kernel.header->initrd_addr_max : 0;
    guest.initrd_address =
        VK_TRY(PlaceInitrd(memory_, config_.initrd.size(), guest.kernel.end, max));
    memory_.PreferHugePages(guest.initrd_address, config_.initrd.size());
    VK_TRY(memory_.WriteBytes(guest.initrd_address, config_.initrd));
  }
  return guest;
}

Result<uint64_t> Machine::LoadGuest() {
  if (!preload_.valid()) return Error("the guest was already loaded");
  PreloadedGuest guest = VK_TRY(preload_.get());
  VK_TRY(WriteBootTables(memory_));
  VK_TRY(WriteMpTable(memory_, config_.cpus));
  cmdline_ = config_.cmdline;
  for (const auto& slot : virtio_) {
    cmdline_ += " virtio_mmio.device=4K@0x" + ToHex(slot->base) + ":" + std::to_string(slot->irq);
  }
  if (cmdline_.size() + 1 > layout::kCmdlineMax) {
    return Error("kernel command line is longer than " + std::to_string(layout::kCmdlineMax - 1));
  }
  VK_TRY(memory_.WriteBytes(
      layout::kCmdline,
      std::span(reinterpret_cast<const uint8_t*>(cmdline_.c_str()), cmdline_.size() + 1)));
  BootParamsInput input;
  input.kernel_header = guest.kernel.header;
  input.cmdline_address = layout::kCmdline;
  input.cmdline_size = static_cast<uint32_t>(cmdline_.size() + 1);
  input.e820 = BuildE820(memory_);
  if (!config_.initrd.empty()) {
    input.initrd_address = guest.initrd_address;
    input.initrd_size = static_cast<uint32_t>(config_.initrd.size());
  }
  boot_params params = VK_TRY(BuildBootParams(input));
  VK_TRY(memory_.Write(layout::kZeroPage, params));
  return guest.kernel.entry;
}

Result<void> Machine::Start() {
  if (restored()) {
    VK_TRY_CTX(RestoreState(), "restore " + config_.restore_from);
  } else {
    VK_TRY(BootVcpus());
  }
  StartThreads();
  return Ok();
}

Result<void> Machine::BootVcpus() {
  uint64_t entry = VK_TRY(LoadGuest());
  guest_loaded_ = std::chrono::steady_clock::now();
  kvm::CpuidEntries cpuid = VK_TRY(kvm_->SupportedCpuid());
  for (uint32_t id = 0; id < config_.cpus; ++id) {
    auto vcpu = VK_TRY(vm_->CreateVcpu(id));
    VK_TRY_CTX(SetupVcpu(*vcpu, cpuid, config_.cpus, entry, layout::kZeroPage),
               "vCPU " + std::to_string(id));
    vcpus_.push_back(std::move(vcpu));
  }
  vcpus_ready_ = std::chrono::steady_clock::now();
  return Ok();
}

// The saved state, in the order SaveSnapshot wrote it: the VM's KVM state,
// each vCPU, the serial port, each virtio transport.
Result<void> Machine::RestoreState() {
  SnapshotIdentity here = Identity();
  if (here.devices != snapshot_devices_) {
    return Error("the snapshot has another device layout than this VM (" +
                 std::to_string(snapshot_devices_.size()) + " devices saved, " +
                 std::to_string(here.devices.size()) + " here)");
  }
  guest_loaded_ = std::chrono::steady_clock::now();
  StateReader in(restore_state_);
  VmKvmState vm_state = VK_TRY(ReadVmKvmState(in));
  for (uint32_t id = 0; id < config_.cpus; ++id) {
    auto vcpu = VK_TRY(vm_->CreateVcpu(id));
    VcpuState state = VK_TRY(ReadVcpuState(in));
    VK_TRY_CTX(ApplyVcpu(*vcpu, state), "vCPU " + std::to_string(id));
    vcpus_.push_back(std::move(vcpu));
  }
  VK_TRY(ApplyVm(*vm_, vm_state));
  VK_TRY_CTX(serial_->com1().RestoreState(in), "serial port");
  for (const auto& slot : virtio_) {
    VK_TRY_CTX(slot->transport->RestoreState(in), std::string(slot->transport->device().name()));
  }
  VK_TRY(in.Finish());
  for (auto& vcpu : vcpus_) VK_TRY(vcpu->NotifyClockPaused());
  restore_state_.clear();
  vcpus_ready_ = std::chrono::steady_clock::now();
  return Ok();
}

void Machine::StartThreads() {
  InstallKickHandler();
  device_thread_ = std::thread([this] {
    EnterThreadRole(ThreadRole::kDevice);
    auto ran = loop_->Run();
    if (!ran.ok()) Stop({ExitKind::kInternalError, 0, ran.error().message()});
  });
  for (auto& vcpu : vcpus_) {
    vcpu_threads_.emplace_back([this, raw = vcpu.get()] {
      EnterThreadRole(ThreadRole::kVcpu);
      RunVcpu(*raw);
    });
  }
}

Result<void> Machine::Pause() {
  std::unique_lock lock(pause_mutex_);
  pause_requested_ = true;
  lock.unlock();
  KickVcpus();
  lock.lock();
  bool parked = pause_changed_.wait_for(
      lock, kPauseTimeout, [this] { return parked_ == vcpu_threads_.size() || stopping_; });
  if (stopping_) return Error("the VM stopped while being paused");
  if (!parked) return Error("the vCPUs did not stop within 10 s");
  return Ok();
}

void Machine::Resume() {
  {
    std::lock_guard lock(pause_mutex_);
    pause_requested_ = false;
    ++resumes_;
  }
  pause_changed_.notify_all();
}

// Only after a KVM_RUN that returned EINTR: KVM has then completed the I/O
// of the last exit, so the saved registers are consistent (KVM API,
// "immediate_exit").
void Machine::ParkVcpu(kvm::Vcpu& vcpu) {
  std::unique_lock lock(pause_mutex_);
  ++parked_;
  pause_changed_.notify_all();
  pause_changed_.wait(lock, [this] { return !pause_requested_ || stopping_; });
  --parked_;
  vcpu.RequestImmediateExit(false);
}

// On the device thread, between its callbacks: no queue is being served.
// Requests the guest queued before its vCPUs parked are served first, so
// the saved queues, guest memory and the disks agree; the thread is then
// held until Resume() or Stop(), so none of them changes while the caller
// writes them out. (Served synchronously, a request is never in flight.)
Result<std::vector<uint8_t>> Machine::SaveDeviceState() {
  uint64_t resumes = 0;
  {
    std::lock_guard lock(pause_mutex_);
    resumes = resumes_;
  }
  // Shared: the task may run after a timeout below has given up on it.
  auto done = std::make_shared<std::promise<Result<std::vector<uint8_t>>>>();
  auto saved = done->get_future();
  loop_->Post([this, done, resumes] {
    ServePendingNotifications();
    StateWriter out;
    auto result = [&]() -> Result<void> {
      serial_->com1().SaveState(out);
      for (const auto& slot : virtio_) {
        VK_TRY_CTX(slot->transport->SaveState(out), std::string(slot->transport->device().name()));
      }
      return Ok();
    }();
    if (result.ok()) {
      done->set_value(out.Take());
    } else {
      done->set_value(std::move(result).error());
    }
    HoldDevices(resumes);
  });
  if (saved.wait_for(kPauseTimeout) != std::future_status::ready) {
    return Error("the device thread did not answer within 10 s");
  }
  return saved.get();
}

// The queue notifications the guest made before its vCPUs parked and the
// loop has not read yet (no more come while they are parked): served now,
// as their callbacks would, so none is left for after the save.
void Machine::ServePendingNotifications() {
  for (const auto& slot : virtio_) {
    for (uint32_t queue = 0; queue < slot->notify_fds.size(); ++queue) {
      uint64_t count = 0;
      if (::read(slot->notify_fds[queue].get(), &count, sizeof(count)) > 0) {
        slot->transport->Notify(queue);
      }
    }
  }
}

void Machine::HoldDevices(uint64_t resumes) {
  std::unique_lock lock(pause_mutex_);
  pause_changed_.wait(lock, [this, resumes] { return resumes_ != resumes || stopping_; });
}

Result<void> Machine::SaveSnapshot(const std::string& dir) {
  if (!config_.serial_ports.empty()) {
    return Error(
        "a VM with serial consoles cannot be snapshotted (their descriptors are the caller's)");
  }
  VK_TRY(Pause());
  // The devices first: serving the last requests may raise interrupts,
  // which the interrupt controllers' state below must include.
  std::vector<uint8_t> devices = VK_TRY(SaveDeviceState());
  StateWriter out;
  WriteVmKvmState(out, VK_TRY(CaptureVm(*vm_)));
  for (const auto& vcpu : vcpus_) {
    WriteVcpuState(out,
                   VK_TRY_CTX(CaptureVcpu(*kvm_, *vcpu), "vCPU " + std::to_string(vcpu->id())));
  }
  std::vector<uint8_t> state = out.Take();
  state.insert(state.end(), devices.begin(), devices.end());
  return WriteSnapshot(dir, Identity(), state, memory_);
}

void Machine::RunVcpu(kvm::Vcpu& vcpu) {
  while (!stopping_) {
    if (!first_run_recorded_.exchange(true)) {
      first_run_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now() - created_)
                          .count();
    }
    auto ran = vcpu.Run();
    if (!ran.ok()) {
      if (ran.error().errno_value() == EINTR || ran.error().errno_value() == EAGAIN) {
        if (pause_requested_) ParkVcpu(vcpu);
        continue;
      }
      Stop({ExitKind::kInternalError, 0, ran.error().message()});
      return;
    }
    exits_.fetch_add(1, std::memory_order_relaxed);
    if (!HandleExit(vcpu)) return;
  }
}

bool Machine::HandleExit(kvm::Vcpu& vcpu) {
  kvm_run& run = *vcpu.run_state();
  switch (run.exit_reason) {
    case KVM_EXIT_IO: HandleIo(run); return !stopping_;
    case KVM_EXIT_MMIO: HandleMmio(run); return true;
    case KVM_EXIT_HLT: return true;  // the in-kernel LAPIC wakes it
    case KVM_EXIT_SHUTDOWN:
      Stop({ExitKind::kTripleFault, 0, "the guest triple-faulted (reboot, panic or crash)"});
      return false;
    case KVM_EXIT_SYSTEM_EVENT:
      if (run.system_event.type == KVM_SYSTEM_EVENT_RESET) {
        Stop({ExitKind::kReboot, 0, "the guest rebooted"});
      } else {
        Stop({ExitKind::kPowerOff, 0, "the guest powered off"});
      }
      return false;
    case KVM_EXIT_INTERNAL_ERROR: {
      auto regs = vcpu.GetRegs();
      std::string rip = regs.ok() ? " at rip 0x" + ToHex(regs->rip) : "";
      Stop({ExitKind::kInternalError, 0,
            "KVM internal error (suberror " + std::to_string(run.internal.suberror) + ")" + rip +
                ": the guest ran an instruction this host's KVM cannot emulate"});
      return false;
    }
    case KVM_EXIT_FAIL_ENTRY:
      Stop({ExitKind::kInternalError, 0,
            "KVM could not enter the guest (reason 0x" +
                ToHex(run.fail_entry.hardware_entry_failure_reason) + ")"});
      return false;
    case KVM_EXIT_INTR: return true;
    default:
      Stop({ExitKind::kInternalError, 0,
            "unexpected KVM exit reason " + std::to_string(run.exit_reason)});
      return false;
  }
}

void Machine::HandleIo(kvm_run& run) {
  // guest-controlled: port, size and count; data lives inside the kvm_run page.
  uint8_t* data = reinterpret_cast<uint8_t*>(&run) + run.io.data_offset;
  bool out = run.io.direction == KVM_EXIT_IO_OUT;
  uint16_t port = run.io.port;
  for (uint32_t i = 0; i < run.io.count; ++i, data += run.io.size) {
    uint16_t offset = 0;
    if (Serial* uart = serial_->Decode(port, offset)) {
      if (out) {
        uart->Write(offset, data[0]);
      } else {
        data[0] = uart->Read(offset);
      }
    } else if (port == layout::kExitPort && out) {
      Stop({ExitKind::kPowerOff, data[0], "the guest powered off"});
    } else if (port == layout::kI8042Command && out && data[0] == layout::kI8042ResetCommand) {
      Stop({ExitKind::kReboot, 0, "the guest rebooted (i8042 reset)"});
    } else if (!out) {
      // No device here; i8042 status 0 means "no data, ready for input".
      std::memset(data, port == layout::kI8042Command ? 0 : 0xff, run.io.size);
    }
  }
}

void Machine::HandleMmio(kvm_run& run) {
  // guest-controlled: address and length (KVM bounds len to 8).
  uint64_t address = run.mmio.phys_addr;
  uint32_t len = std::min<uint32_t>(run.mmio.len, sizeof(run.mmio.data));
  std::span<uint8_t> data(run.mmio.data, len);
  if (address >= layout::kVirtioMmioBase) {
    uint64_t index = (address - layout::kVirtioMmioBase) / layout::kVirtioMmioSlot;
    if (index < virtio_.size()) {
      uint64_t offset = address - virtio_[index]->base;
      if (run.mmio.is_write) {
        virtio_[index]->transport->Write(offset, data);
      } else {
        virtio_[index]->transport->Read(offset, data);
      }
      return;
    }
  }
  if (!run.mmio.is_write) std::memset(data.data(), 0xff, data.size());
  log::Debug("unhandled MMIO {} at 0x{}", run.mmio.is_write ? "write" : "read", ToHex(address));
}

void Machine::Stop(MachineExit reason) {
  {
    std::lock_guard lock(exit_mutex_);
    if (!exit_) {
      exit_ = std::move(reason);
      ended_ = (std::chrono::steady_clock::now() - created_).count();
    }
  }
  stopping_ = true;
  exit_changed_.notify_all();
  {
    std::lock_guard lock(pause_mutex_);  // wakes parked vCPUs
  }
  pause_changed_.notify_all();
  KickVcpus();
}

void Machine::KickVcpus() {
  for (size_t i = 0; i < vcpu_threads_.size() && i < vcpus_.size(); ++i) {
    vcpus_[i]->RequestImmediateExit(true);
    if (vcpu_threads_[i].joinable()) ::pthread_kill(vcpu_threads_[i].native_handle(), kKickSignal);
  }
}

MachineExit Machine::Wait(std::optional<std::chrono::steady_clock::time_point> deadline) {
  std::unique_lock lock(exit_mutex_);
  auto done = [this] { return exit_.has_value(); };
  if (deadline) {
    if (!exit_changed_.wait_until(lock, *deadline, done)) {
      lock.unlock();
      Stop({ExitKind::kTimeout, 0, "timeout"});
      lock.lock();
    }
  } else {
    exit_changed_.wait(lock, done);
  }
  MachineExit result = *exit_;
  lock.unlock();
  for (auto& thread : vcpu_threads_) {
    if (thread.joinable()) thread.join();
  }
  loop_->Stop();
  if (device_thread_.joinable()) device_thread_.join();
  serial_->Flush();
  return result;
}

MachineStats Machine::stats() const {
  MachineStats stats;
  stats.create_to_first_run = std::chrono::nanoseconds(first_run_ns_.load());
  stats.first_run = created_ + stats.create_to_first_run;
  stats.guest_loaded = guest_loaded_;
  stats.vcpus_ready = vcpus_ready_;
  auto end = ended_.load() != 0 ? created_ + std::chrono::nanoseconds(ended_.load())
                                : std::chrono::steady_clock::now();
  stats.run_time = end - stats.first_run;
  stats.exits = exits_.load();
  stats.guest_resident_bytes = ResidentBytes(memory_);
  return stats;
}

}  // namespace vk
