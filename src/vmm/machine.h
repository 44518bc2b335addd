// Machine: one x86_64 microVM. Owns guest memory, the KVM VM and vCPUs, the
// legacy devices (serial console, i8042 reset line, exit port), the virtio-mmio
// devices and the threads that run them: one per vCPU plus one device event
// loop. The first vCPU to see a terminal event (power-off, reboot, triple
// fault, internal error) ends the whole machine.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "base/event_loop.h"
#include "base/guest_memory.h"
#include "base/result.h"
#include "kvm/kvm.h"
#include "virtio/device.h"
#include "virtio/mmio_transport.h"
#include "vmm/kernel_loader.h"
#include "vmm/serial_ports.h"
#include "vmm/snapshot_file.h"

namespace vk {

struct MachineConfig {
  std::span<const uint8_t> kernel;  // ELF vmlinux or bzImage bytes; must outlive Start()
  std::span<const uint8_t> initrd;  // may be empty
  std::string cmdline;              // without virtio_mmio.device= entries (added here)
  uint32_t cpus = 1;
  uint64_t memory_bytes = 256ull << 20;
  int console_fd = -1;  // serial output; not owned; -1 = discard
  // libkrun's serial consoles: COM1.. (ttyS0..) wired to these instead of
  // COM1 writing console_fd (at most kMaxSerialPorts). Such a machine
  // cannot be snapshotted (the descriptors are the caller's).
  std::vector<SerialPortConfig> serial_ports;
  // Resume the snapshot in this directory instead of booting (kernel, initrd
  // and cmdline are then unused; the devices added must be the snapshot's,
  // in the same order). docs/snapshots.md.
  std::string restore_from;
  // What the guest was booted from (kernel, initrd, ...): a snapshot made of
  // one guest is never restored with another. See SnapshotIdentity::guest.
  std::string guest_identity;
};

enum class ExitKind {
  kPowerOff,       // the guest wrote its status to the exit port (or asked KVM)
  kReboot,         // i8042 reset or a KVM reset event
  kTripleFault,    // KVM_EXIT_SHUTDOWN: reboot=t, a panic with panic=-1, or a crash
  kInternalError,  // KVM could not run the guest (e.g. an unemulated instruction)
  kTimeout,        // Wait()'s deadline passed; the machine was stopped
};

struct MachineExit {
  ExitKind kind = ExitKind::kPowerOff;
  int status = 0;      // kPowerOff: the byte the guest wrote
  std::string detail;  // human-readable cause
};

// Statistics a benchmark reads after a run.
struct MachineStats {
  std::chrono::steady_clock::time_point guest_loaded;  // kernel, initrd, tables in memory
  std::chrono::steady_clock::time_point vcpus_ready;   // vCPUs created and set up
  std::chrono::steady_clock::time_point first_run;     // first KVM_RUN entered
  std::chrono::nanoseconds create_to_first_run{0};     // Create() start to first KVM_RUN
  std::chrono::nanoseconds run_time{0};                // first KVM_RUN to now / the end
  uint64_t exits = 0;                                  // KVM_RUN returns handled
  uint64_t guest_resident_bytes = 0;                   // guest RAM backed by host pages
};

class Machine {
 public:
  static Result<std::unique_ptr<Machine>> Create(const MachineConfig& config);
  ~Machine();
  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;

  // Before Start(): attaches a virtio-mmio device (next free slot and IRQ).
  Result<void> AddVirtioDevice(std::unique_ptr<virtio::VirtioDevice> device);
  // Loads the kernel and starts the vCPU and device threads.
  Result<void> Start();
  // Blocks until the guest ends or `deadline` passes (then stops it).
  MachineExit Wait(std::optional<std::chrono::steady_clock::time_point> deadline = {});
  // Ends the machine from any thread (e.g. a signal handler thread).
  void Stop(MachineExit reason);

  // --- Snapshots (docs/snapshots.md) ---
  // Parks every vCPU outside KVM_RUN (after KVM completed any pending I/O);
  // the guest stops until Resume(). Fails if the machine ends meanwhile.
  Result<void> Pause();
  // Lets the vCPUs (and the devices held by SaveSnapshot) run again.
  void Resume();
  // Saves the machine into `dir` (must not exist). Pauses it first and leaves
  // it paused, its device thread held too (requests the guest queued before
  // the pause are served first): until Resume() or the end of the machine
  // neither guest memory nor a disk changes, so the caller may copy the
  // VM's disks consistently with the snapshot. The caller resumes or
  // discards the machine, also when this fails.
  Result<void> SaveSnapshot(const std::string& dir);
  // What a snapshot of this machine is tied to.
  SnapshotIdentity Identity() const;
  bool restored() const { return !config_.restore_from.empty(); }
  // Whether the machine has ended (without waiting).
  bool ended() const {
    std::lock_guard lock(exit_mutex_);
    return exit_.has_value();
  }

  const GuestMemory& memory() const { return memory_; }
  std::string ConsoleTail(size_t max_bytes = 4096) const { return serial_->com1().Tail(max_bytes); }
  MachineStats stats() const;
  uint32_t cpus() const { return config_.cpus; }
  // The device thread's loop: backends that must run beside the devices
  // (the in-process network) register here before Start().
  EventLoop& device_loop() { return *loop_; }
  // Keeps `object` alive until the vCPU and device threads have ended (it is
  // destroyed before the devices and the loop), e.g. a device's backend.
  void Own(std::shared_ptr<void> object) { owned_.push_back(std::move(object)); }
  // The full kernel command line the guest boots with (after Start()).
  const std::string& kernel_cmdline() const { return cmdline_; }

 private:
  struct VirtioSlot;
  explicit Machine(MachineConfig config);
  // What can be put into guest memory before the VM's devices are known.
  struct PreloadedGuest {
    LoadedKernel kernel;
    uint64_t initrd_address = 0;
  };
  Result<void> Init();
  Result<void> InitMemory();
  Result<void> BootVcpus();
  Result<void> RestoreState();
  Result<std::vector<uint8_t>> SaveDeviceState();
  void ServePendingNotifications();
  void HoldDevices(uint64_t resumes);
  void StartThreads();
  void ParkVcpu(kvm::Vcpu& vcpu);
  Result<PreloadedGuest> PreloadGuest() const;
  Result<uint64_t> LoadGuest();
  void RunVcpu(kvm::Vcpu& vcpu);
  bool HandleExit(kvm::Vcpu& vcpu);  // false: the vCPU must stop
  void HandleIo(kvm_run& run);
  void HandleMmio(kvm_run& run);
  void KickVcpus();

  MachineConfig config_;
  std::chrono::steady_clock::time_point created_;
  std::chrono::steady_clock::time_point guest_loaded_, vcpus_ready_;
  std::optional<kvm::System> kvm_;
  std::unique_ptr<kvm::Vm> vm_;
  GuestMemory memory_;
  // Kernel and initrd being copied into memory_ while KVM is set up; after
  // memory_ so it is destroyed (and waited for) first.
  std::future<Result<PreloadedGuest>> preload_;
  std::vector<std::unique_ptr<kvm::Vcpu>> vcpus_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<SerialPorts> serial_;
  std::vector<std::unique_ptr<VirtioSlot>> virtio_;
  std::vector<std::shared_ptr<void>> owned_;  // after loop_/virtio_: destroyed first
  std::string cmdline_;

  std::vector<std::thread> vcpu_threads_;
  std::thread device_thread_;
  mutable std::mutex exit_mutex_;
  std::condition_variable exit_changed_;
  std::optional<MachineExit> exit_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> first_run_recorded_{false};
  std::atomic<int64_t> first_run_ns_{0};
  std::atomic<uint64_t> exits_{0};
  std::atomic<int64_t> ended_{0};  // ns after created_ when the machine stopped

  // Pause(): vCPU threads park in ParkVcpu while pause_requested_.
  std::mutex pause_mutex_;
  std::condition_variable pause_changed_;
  std::atomic<bool> pause_requested_{false};
  size_t parked_ = 0;
  uint64_t resumes_ = 0;  // Resume() calls: a held device thread waits for the next one
  // A restore's saved machine state, consumed by Start().
  std::vector<uint8_t> restore_state_;
  std::vector<uint32_t> snapshot_devices_;
};

}  // namespace vk
