#include "virtio/console/multiport_console_device.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <set>

#include "base/log.h"
#include "virtio/queue_drain.h"

namespace vk::virtio {
namespace {

using vcon::ControlHeader;

constexpr uint16_t kQueueSize = 64;
// Abuse bound: bytes of guest output handled per transmit chain, and of host
// input read per receive buffer.
constexpr uint64_t kMaxChunk = 64 * 1024;
// Abuse bound: control messages waiting for the driver to post control
// receive buffers. One handshake needs at most five per port (DEVICE_ADD,
// CONSOLE_PORT, PORT_NAME, PORT_OPEN, and PORT_OPEN 0 when the host side
// closes), so only a driver that repeats DEVICE_READY/PORT_READY without
// ever posting a buffer reaches it; further messages are dropped.
constexpr size_t kMaxPendingControl = 5 * kMaxConsolePorts;
// Config space (virtio 1.2 §5.3.4): cols u16, rows u16, max_nr_ports u32,
// emerg_wr u32.
constexpr size_t kConfigMaxNrPorts = 4, kConfigSize = 12;

struct Port {
  ConsolePortSpec spec;
  bool input_open = false;  // input_fd given and no EOF/error seen yet
  bool output_is_socket = false;
  bool host_connected = true;    // what PORT_OPEN last told the driver
  bool ready = false;            // driver sent PORT_READY 1: its port exists
  bool guest_connected = false;  // driver sent PORT_OPEN 1 (a guest process opened it)
  bool rx_starved = false;       // no receive buffer posted: input waits for one
  bool watching = false;         // input_fd registered with the loop
};

class MultiportConsoleDevice : public VirtioDevice {
 public:
  explicit MultiportConsoleDevice(MultiportConsoleConfig config) {
    for (ConsolePortSpec& spec : config.ports) ports_.push_back(Port{.spec = std::move(spec)});
  }
  ~MultiportConsoleDevice() override { Reset(); }

  DeviceType type() const override { return DeviceType::kConsole; }
  std::string_view name() const override { return "virtio-console"; }
  uint64_t features() const override { return vcon::kFeatureMultiport; }
  std::vector<uint16_t> queue_max_sizes() const override {
    return std::vector<uint16_t>(2 * (ports_.size() + 1), kQueueSize);
  }

  void ReadConfig(uint64_t offset, std::span<uint8_t> data) override {
    // No F_SIZE (cols/rows read 0) and no F_EMERG_WRITE (emerg_wr reads 0).
    uint8_t config[kConfigSize] = {};
    uint32_t max_nr_ports = static_cast<uint32_t>(ports_.size());
    std::memcpy(config + kConfigMaxNrPorts, &max_nr_ports, sizeof(max_nr_ports));
    std::memset(data.data(), 0, data.size());
    if (offset >= kConfigSize) return;
    size_t n = std::min<size_t>(data.size(), kConfigSize - offset);
    std::memcpy(data.data(), config + offset, n);
  }

  Result<void> Activate(const DeviceContext& context) override {
    if (context.queues.size() < queue_max_sizes().size()) {
      return Error("virtio-console: the transport set up too few queues");
    }
    context_ = context;
    active_ = true;
    multiport_ = (context.driver_features & vcon::kFeatureMultiport) != 0;
    for (Port& port : ports_) {
      port.input_open = port.spec.input_fd >= 0;
      struct stat st;
      port.output_is_socket = port.spec.output_fd >= 0 && ::fstat(port.spec.output_fd, &st) == 0 &&
                              S_ISSOCK(st.st_mode);
    }
    if (!multiport_) {
      // Without MULTIPORT the driver knows port 0 only and makes it its
      // console at once (add_port -> init_port_console), no control queue.
      ports_[0].ready = ports_[0].guest_connected = true;
      UpdateWatch(0);
    }
    return Ok();
  }

  void ProcessQueue(size_t index) override {
    if (!active_) return;
    if (multiport_ && index == vcon::kControlReceiveQueue) return FlushControl();
    if (multiport_ && index == vcon::kControlTransmitQueue) return HandleControl();
    uint32_t id = index < 2 ? 0 : static_cast<uint32_t>(index / 2 - 1);
    if (id >= ports_.size() || (id > 0 && !multiport_)) return;
    if (index == vcon::TransmitQueue(id)) return Transmit(id);
    // New receive buffers: input may flow again.
    ports_[id].rx_starved = false;
    UpdateWatch(id);
  }

  void Reset() override {
    for (Port& port : ports_) {
      if (port.watching) context_.loop->Remove(port.spec.input_fd);
      ConsolePortSpec spec = std::move(port.spec);
      port = Port{.spec = std::move(spec)};
    }
    pending_control_.clear();
    active_ = false;
  }

  // Not checkpointable: the ports' peers are host fds whose other ends
  // (processes, terminals) a restore cannot bring back, and the guest's
  // open/closed view of each port would not match them.
  Result<void> SaveState(StateWriter&) override {
    return Error("a multiport console cannot be checkpointed");
  }
  Result<void> RestoreState(StateReader&) override {
    return Error("a multiport console cannot be restored from a checkpoint");
  }

 private:
  // --- Control queues (virtio 1.2 §5.3.6.2) ---

  void HandleControl() {
    DrainQueue(context_, vcon::kControlTransmitQueue, name(), [this](const DescriptorChain& chain) {
      ChainReader reader(*context_.memory, chain);
      auto header = reader.Read<ControlHeader>();  // guest-controlled
      if (header.ok()) HandleControlMessage(*header);
      return 0u;
    });
  }

  void HandleControlMessage(const ControlHeader& message) {
    if (message.event == vcon::kDeviceReady) {
      if (message.value != 1) {
        log::WarnLimited(name(), "virtio-console: the driver failed to set up the device");
        return;
      }
      for (uint32_t id = 0; id < ports_.size(); ++id) SendControl(id, vcon::kDeviceAdd, 1);
      return;
    }
    if (message.id >= ports_.size()) return;  // guest-controlled: no such port
    Port& port = ports_[message.id];
    switch (message.event) {
      case vcon::kPortReady:
        if (message.value != 1) {
          // add_port failed in the guest; it keeps no state for the port.
          log::WarnLimited(name(), "virtio-console: the driver failed to add port {}", message.id);
          port.ready = false;
          break;
        }
        port.ready = true;
        AnnouncePort(message.id);
        break;
      case vcon::kPortOpen:
        // port_fops_open/release (and init_port_console for hvc ports).
        port.guest_connected = message.value != 0;
        break;
      default: return;  // events only the device sends, or unknown
    }
    UpdateWatch(message.id);
  }

  // What the driver needs once its port exists, in QEMU's order: the hvc
  // flag, the name, then host_connected, without which port_fops_read gives
  // the guest EOF and writes block (will_write_block).
  void AnnouncePort(uint32_t id) {
    const Port& port = ports_[id];
    if (port.spec.console) SendControl(id, vcon::kConsolePort, 1);
    if (!port.spec.name.empty()) {
      // The name follows the header in the same buffer, without a NUL
      // (virtio 1.2 §5.3.6.2); Linux sizes it from the used length.
      SendControl(id, vcon::kPortName, 1, port.spec.name);
    }
    if (port.host_connected) SendControl(id, vcon::kPortOpen, 1);
  }

  void SendControl(uint32_t id, uint16_t event, uint16_t value, std::string_view tail = {}) {
    if (!multiport_) return;
    if (pending_control_.size() >= kMaxPendingControl) {
      log::WarnLimited(name(), "virtio-console: control queue full, message dropped");
      return;
    }
    ControlHeader header{.id = id, .event = event, .value = value};
    std::vector<uint8_t> message(sizeof(header) + tail.size());
    std::memcpy(message.data(), &header, sizeof(header));
    if (!tail.empty()) std::memcpy(message.data() + sizeof(header), tail.data(), tail.size());
    pending_control_.push_back(std::move(message));
    FlushControl();
  }

  // One message per receive buffer, as Linux parses one per buffer
  // (control_work_handler). Messages wait until the driver posts buffers.
  void FlushControl() {
    Queue& queue = context_.queues[vcon::kControlReceiveQueue];
    const GuestMemory& memory = *context_.memory;
    bool pushed = false;
    while (!pending_control_.empty()) {
      auto popped = queue.Pop(memory);
      if (!popped.ok()) {
        log::WarnLimited(name(), "virtio-console: {}", popped.error().message());
        pushed = true;  // Pop gave the malformed head back
        continue;
      }
      if (!popped->has_value()) break;
      DescriptorChain chain = std::move(**popped);
      std::vector<uint8_t> message = std::move(pending_control_.front());
      pending_control_.pop_front();
      uint32_t written = 0;
      if (chain.writable_bytes() >= message.size()) {
        ChainWriter writer(memory, chain);
        if (writer.Write(message).ok()) written = static_cast<uint32_t>(message.size());
      } else {
        // guest-controlled: a buffer too small for the message. A cut
        // message would be misread, so it is dropped and the buffer returned.
        log::WarnLimited(name(), "virtio-console: control buffer too small, message dropped");
      }
      auto returned = queue.Push(memory, std::move(chain), written);
      (void)returned;
      pushed = true;
    }
    if (pushed && queue.NeedsInterrupt(memory)) {
      context_.interrupt->Trigger(Interrupt::Reason::kUsedBuffer);
    }
  }

  // --- Port data ---

  // One write per chain, as the single-port console does: what a full
  // non-blocking fd does not take is lost.
  void Transmit(uint32_t id) {
    const Port& port = ports_[id];
    DrainQueue(context_, vcon::TransmitQueue(id), name(), [&](const DescriptorChain& chain) {
      if (port.spec.output_fd < 0) return 0u;
      std::vector<uint8_t> bytes(std::min(chain.readable_bytes(), kMaxChunk));
      ChainReader reader(*context_.memory, chain);
      bytes.resize(reader.ReadSome(bytes));
      if (port.output_is_socket) {
        // A peer that went away must be EPIPE, not a SIGPIPE killing the VMM.
        ssize_t ignored = ::send(port.spec.output_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        (void)ignored;
      } else {
        WriteCapped(port.spec.output_fd, bytes, port.spec.max_output_bytes);
      }
      return 0u;
    });
  }

  // Input is read only while the guest can take it:
  // - the driver has the port (PORT_READY) and a posted receive buffer:
  //   without one, reading would mean holding bytes on the host;
  // - a guest process has the port open, or it is a console: in_intr
  //   discards data that arrives for a closed non-console port
  //   (discard_port_data), so it waits in the host fd instead (a pipe or
  //   socket applies backpressure) until port_fops_open sends PORT_OPEN 1.
  //   An hvc port is always connected (init_port_console).
  // Pausing removes the fd from the loop rather than clearing its mask:
  // epoll reports EPOLLHUP whatever the mask, so a paused pipe whose writer
  // closed would wake the loop again and again.
  void UpdateWatch(uint32_t id) {
    Port& port = ports_[id];
    bool want = port.input_open && port.ready && (port.guest_connected || port.spec.console) &&
                !port.rx_starved;
    if (want == port.watching) return;
    int fd = port.spec.input_fd;
    port.watching = want;
    if (!want) return context_.loop->Remove(fd);
    auto added = context_.loop->Add(fd, EPOLLIN, [this, id](uint32_t) {
      std::lock_guard lock(*context_.lock);
      ReceiveInput(id);
    });
    if (!added.ok()) {
      log::Warn("virtio-console: port {}: cannot watch input: {}", id, added.error().message());
      port.watching = false;
      EndInput(id);
    }
  }

  void ReceiveInput(uint32_t id) {
    Port& port = ports_[id];
    if (!active_ || !port.watching) return;  // raced with Reset or a pause
    Queue& queue = context_.queues[vcon::ReceiveQueue(id)];
    const GuestMemory& memory = *context_.memory;
    auto popped = queue.Pop(memory);
    if (!popped.ok()) {
      // The malformed head went back to the driver; the fd is still
      // readable, so the loop calls again for the next buffer.
      log::WarnLimited(name(), "virtio-console: {}", popped.error().message());
      return Signal(queue);
    }
    if (!popped->has_value()) {
      port.rx_starved = true;
      return UpdateWatch(id);
    }
    DescriptorChain chain = std::move(**popped);
    if (chain.writable_bytes() == 0) {
      // guest-controlled: nothing fits; a 0-byte read would look like EOF.
      auto returned = queue.Push(memory, std::move(chain), 0);
      (void)returned;
      return Signal(queue);
    }
    std::vector<uint8_t> bytes(std::min(chain.writable_bytes(), kMaxChunk));
    ssize_t n = ::read(port.spec.input_fd, bytes.data(), bytes.size());
    if (n <= 0) {
      // Nothing to deliver: the buffer goes back to the ring unused, as a
      // used buffer of length 0 reads as end of file in port_fops_read.
      queue.Unpop(1);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
      return EndInput(id);
    }
    ChainWriter writer(memory, chain);
    uint32_t written = 0;
    if (writer.Write(std::span(bytes.data(), static_cast<size_t>(n))).ok()) {
      written = static_cast<uint32_t>(n);
    }
    auto returned = queue.Push(memory, std::move(chain), written);
    (void)returned;
    Signal(queue);
  }

  // EOF or a read error: input is over. If the port has no output of its
  // own left (none, or the same fd, e.g. a socket whose peer closed), the
  // host side is gone: PORT_OPEN 0 makes port_fops_read return 0 (EOF) once
  // buffered data is read. A port with a separate output fd stays connected,
  // since a disconnected port blocks the guest's writes (will_write_block)
  // and virtio-console has no half-close.
  void EndInput(uint32_t id) {
    Port& port = ports_[id];
    port.input_open = false;
    UpdateWatch(id);
    bool output_left = port.spec.output_fd >= 0 && port.spec.output_fd != port.spec.input_fd;
    if (output_left || !port.host_connected) return;
    port.host_connected = false;
    if (port.ready) SendControl(id, vcon::kPortOpen, 0);
  }

  void Signal(Queue& queue) {
    if (queue.NeedsInterrupt(*context_.memory)) {
      context_.interrupt->Trigger(Interrupt::Reason::kUsedBuffer);
    }
  }

  std::vector<Port> ports_;
  DeviceContext context_;
  bool active_ = false;
  bool multiport_ = false;  // the driver accepted F_MULTIPORT
  std::deque<std::vector<uint8_t>> pending_control_;
};

Result<void> CheckConfig(const MultiportConsoleConfig& config) {
  if (config.ports.empty()) return Error("a multiport console needs at least one port");
  if (config.ports.size() > kMaxConsolePorts) {
    return Error("virtio-console: " + std::to_string(config.ports.size()) + " ports, at most " +
                 std::to_string(kMaxConsolePorts));
  }
  std::set<std::string_view> names;
  std::set<int> input_fds;
  for (size_t id = 0; id < config.ports.size(); ++id) {
    const ConsolePortSpec& port = config.ports[id];
    std::string what = "virtio-console port " + std::to_string(id);
    if (port.name.size() > kMaxConsolePortNameBytes) {
      return Error(what + ": name longer than " + std::to_string(kMaxConsolePortNameBytes) +
                   " bytes");
    }
    if (port.name.find('\0') != std::string::npos) return Error(what + ": name holds a NUL");
    if (!port.name.empty() && !names.insert(port.name).second) {
      return Error(what + ": name \"" + port.name + "\" is used twice");
    }
    if (port.input_fd >= 0 && !input_fds.insert(port.input_fd).second) {
      return Error(what + ": input fd " + std::to_string(port.input_fd) + " is used twice");
    }
  }
  return Ok();
}

}  // namespace

Result<std::unique_ptr<VirtioDevice>> CreateMultiportConsoleDevice(MultiportConsoleConfig config) {
  VK_TRY(CheckConfig(config));
  return std::unique_ptr<VirtioDevice>(std::make_unique<MultiportConsoleDevice>(std::move(config)));
}

}  // namespace vk::virtio
