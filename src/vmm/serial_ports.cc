#include "vmm/serial_ports.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "kvm/kvm.h"

namespace vk {
namespace {

// Host input is read at most this much at a time (the UART's own FIFO bound
// is in serial.cc).
constexpr size_t kInputChunk = 4096;

// The ISA line is edge-triggered: KVM latches a pulse in the PIC/IOAPIC.
std::function<void()> PulseIrq(kvm::Vm& vm, uint32_t irq) {
  return [&vm, irq] {
    auto up = vm.SetIrqLine(irq, true);
    auto down = vm.SetIrqLine(irq, false);
    (void)up, (void)down;
  };
}

// Input that cannot be polled (a regular file, /dev/null) is always ready:
// what fits the UART's FIFO is queued at once.
void ReceiveAll(Serial& uart, int fd) {
  char buffer[kInputChunk];
  for (size_t space = uart.InputSpace(); space > 0; space = uart.InputSpace()) {
    ssize_t n = ::read(fd, buffer, std::min(space, sizeof(buffer)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    uart.Receive({buffer, static_cast<size_t>(n)});
  }
}

}  // namespace

Result<std::unique_ptr<SerialPorts>> SerialPorts::Create(
    kvm::Vm& vm, EventLoop& loop, int console_fd, const std::vector<SerialPortConfig>& ports) {
  if (ports.size() > kMaxSerialPorts) {
    return Error("at most " + std::to_string(kMaxSerialPorts) + " serial ports (COM1-COM4)");
  }
  std::unique_ptr<SerialPorts> serial(new SerialPorts());
  serial->loop_ = &loop;
  if (ports.empty()) {
    serial->uarts_.push_back(std::make_unique<Serial>(console_fd, PulseIrq(vm, kComPorts[0].irq)));
    return serial;
  }
  for (size_t i = 0; i < ports.size(); ++i) {
    serial->uarts_.push_back(std::make_unique<Serial>(
        ports[i].output_fd, PulseIrq(vm, kComPorts[i].irq), kDefaultConsoleLogLimit, false));
  }
  for (size_t i = 0; i < ports.size(); ++i) {
    if (ports[i].input_fd < 0) continue;
    VK_TRY_CTX(serial->WatchInput(*serial->uarts_[i], ports[i].input_fd),
               "serial port ttyS" + std::to_string(i) + " input");
  }
  return serial;
}

Serial* SerialPorts::Decode(uint16_t port, uint16_t& offset) {
  for (size_t i = 0; i < uarts_.size(); ++i) {
    if (port >= kComPorts[i].base && port < kComPorts[i].base + kUartRegisters) {
      offset = port - kComPorts[i].base;
      return uarts_[i].get();
    }
  }
  return nullptr;
}

void SerialPorts::Flush() {
  for (auto& uart : uarts_) uart->Flush();
}

// Reads only as much as the UART's FIFO has room for, so no byte is lost:
// when it is full, polling stops until the guest has read it all.
Result<void> SerialPorts::WatchInput(Serial& uart, int fd) {
  EventLoop* loop = loop_;
  auto paused = std::make_shared<std::atomic<bool>>(false);
  auto resume = [loop, fd, paused] {
    if (paused->exchange(false)) loop->Post([loop, fd] { (void)loop->Modify(fd, EPOLLIN); });
  };
  uart.SetInputDrained(resume);
  auto added = loop->Add(fd, EPOLLIN, [loop, fd, paused, resume, &uart](uint32_t) {
    size_t space = std::min(uart.InputSpace(), kInputChunk);
    if (space == 0) {
      paused->store(true);
      (void)loop->Modify(fd, 0);
      // The guest may have emptied the FIFO just before `paused` was set.
      if (uart.InputSpace() > 0) resume();
      return;
    }
    char buffer[kInputChunk];
    ssize_t n = ::read(fd, buffer, space);
    if (n > 0) {
      uart.Receive({buffer, static_cast<size_t>(n)});
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      loop->Remove(fd);  // end of input: the guest gets no more
    }
  });
  if (!added.ok() && added.error().errno_value() == EPERM) {
    ReceiveAll(uart, fd);
    return Ok();
  }
  return added;
}

}  // namespace vk
