// The guest's UARTs: COM1 (ttyS0) always, COM2-COM4 (ttyS1-ttyS3) when a
// libkrun client adds serial consoles. Maps I/O ports to them, raises their
// ISA interrupt lines and feeds host input to them without losing bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"
#include "vmm/serial.h"

namespace vk {

namespace kvm {
class Vm;
}

// A UART wired to the caller's descriptors (not owned).
struct SerialPortConfig {
  int output_fd = -1;  // -1: output discarded
  int input_fd = -1;   // -1: the guest reads nothing
};

// Where a UART sits: the PC's legacy COM ports (COM1/COM3 share IRQ 4,
// COM2/COM4 IRQ 3, as on real hardware; Linux's 8250 driver probes exactly
// these for ttyS0-ttyS3).
struct SerialPortLocation {
  uint16_t base;
  uint32_t irq;
};
inline constexpr SerialPortLocation kComPorts[] = {{0x3f8, 4}, {0x2f8, 3}, {0x3e8, 4}, {0x2e8, 3}};
inline constexpr size_t kMaxSerialPorts = std::size(kComPorts);
inline constexpr uint16_t kUartRegisters = 8;

class SerialPorts {
 public:
  // `ports` empty: COM1 only, a line-buffered log into `console_fd`.
  // Otherwise COM1.. are `ports`, passing bytes on unbuffered, and their
  // input fds are watched on `loop` (which must outlive this).
  static Result<std::unique_ptr<SerialPorts>> Create(kvm::Vm& vm, EventLoop& loop, int console_fd,
                                                     const std::vector<SerialPortConfig>& ports);
  // The UART decoding this I/O port, or null; `offset` gets the register.
  Serial* Decode(uint16_t port, uint16_t& offset);
  // COM1: the kernel console (its tail explains a crash; it is what
  // snapshots save, since checkpointable VMs have only COM1).
  Serial& com1() { return *uarts_.front(); }
  const Serial& com1() const { return *uarts_.front(); }
  void Flush();

 private:
  SerialPorts() = default;
  Result<void> WatchInput(Serial& uart, int fd);

  EventLoop* loop_ = nullptr;
  std::vector<std::unique_ptr<Serial>> uarts_;
};

}  // namespace vk
