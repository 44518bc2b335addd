#include "virtio/console/multiport_console_device.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <set>

#include "base/log.h"
#include "base/terminal.h"
#include "base/terminal_resize.h"
#include "base/unique_fd.h"
#include "virtio/queue_drain.h"

namespace vk::virtio {
namespace {

using vcon::ControlHeader;

constexpr uint16_t kQueueSize = 64;
// Abuse bound: bytes of guest output handled per transmit chain, and of host
// input read per receive buffer. Also bounds what a port holds for an output
// fd that would block: the rest of one chain.
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

// How guest output reaches a port's output fd.
enum class OutputKind {
  kStream,  // pipe, terminal, character device: write(), may be non-blocking
  kSocket,  // send(MSG_NOSIGNAL): a peer that went away is EPIPE, not SIGPIPE
  kFile,    // regular file: WriteCapped, which bounds its size; never blocks
};

struct Port {
  ConsolePortSpec spec;
  bool input_open = false;  // input_fd given and no EOF/error seen yet
  OutputKind output_kind = OutputKind::kStream;
  // The unwritten rest of the last transmit chain (at most kMaxChunk bytes):
  // non-empty only while a non-blocking output fd would block. No further
  // chain of the port is taken meanwhile.
  std::vector<uint8_t> pending_output;
  // A dup of output_fd registered for EPOLLOUT while pending_output is
  // non-empty (WatchOutput says why a dup).
  UniqueFd output_watch;
  bool host_connected = true;    // what PORT_OPEN last told the driver
  bool ready = false;            // driver sent PORT_READY 1: its port exists
  bool guest_connected = false;  // driver sent PORT_OPEN 1 (a guest process opened it)
  bool rx_starved = false;       // no receive buffer posted: input waits for one
  bool watching = false;         // input_fd registered with the loop
  // A console port's host terminal (its input fd, else its output fd, if
  // one is a tty), whose size the guest's hvc gets; -1: none.
  int terminal_fd = -1;
};

// The terminal behind a console port, as libkrun's terminal ports: only
// console ports, since Linux applies a RESIZE to hvc ports only.
int TerminalOf(const ConsolePortSpec& spec) {
  if (!spec.console) return -1;
  for (int fd : {spec.input_fd, spec.output_fd})
    if (fd >= 0 && ::isatty(fd) == 1) return fd;
  return -1;
}

class MultiportConsoleDevice : public VirtioDevice {
 public:
  MultiportConsoleDevice(MultiportConsoleConfig config,
                         std::optional<TerminalResizeWatch> resize_watch)
      : resize_watch_(std::move(resize_watch)) {
    for (ConsolePortSpec& spec : config.ports) {
      int terminal = TerminalOf(spec);
      has_terminal_ = has_terminal_ || terminal >= 0;
      ports_.push_back(Port{.spec = std::move(spec), .terminal_fd = terminal});
    }
  }
  ~MultiportConsoleDevice() override { Reset(); }

  DeviceType type() const override { return DeviceType::kConsole; }
  std::string_view name() const override { return "virtio-console"; }
  uint64_t features() const override {
    return vcon::kFeatureMultiport | (has_terminal_ ? vcon::kFeatureSize : 0);
  }
  std::vector<uint16_t> queue_max_sizes() const override {
    return std::vector<uint16_t>(2 * (ports_.size() + 1), kQueueSize);
  }

  void ReadConfig(uint64_t offset, std::span<uint8_t> data) override {
    // cols/rows: port 0's terminal, which only a driver without MULTIPORT
    // reads (config_work_handler). No F_EMERG_WRITE (emerg_wr reads 0).
    uint8_t config[kConfigSize] = {};
    if (auto size =
            ports_[0].terminal_fd >= 0 ? TerminalSize(ports_[0].terminal_fd) : std::nullopt) {
      const uint16_t cols = size->second, rows = size->first;
      std::memcpy(config, &cols, 2);
      std::memcpy(config + 2, &rows, 2);
    }
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
      if (port.spec.output_fd >= 0 && ::fstat(port.spec.output_fd, &st) == 0) {
        if (S_ISSOCK(st.st_mode)) port.output_kind = OutputKind::kSocket;
        if (S_ISREG(st.st_mode)) port.output_kind = OutputKind::kFile;
      }
    }
    if (!multiport_) {
      // Without MULTIPORT the driver knows port 0 only and makes it its
      // console at once (add_port -> init_port_console), no control queue.
      ports_[0].ready = ports_[0].guest_connected = true;
      UpdateWatch(0);
    }
    if (resize_watch_ && multiport_) {
      auto added = context_.loop->Add(resize_watch_->fd(), EPOLLIN, [this](uint32_t) {
        std::lock_guard lock(*context_.lock);
        TerminalResized();
      });
      if (!added.ok())
        log::Warn("virtio-console: terminal size changes will not reach the guest: {}",
                  added.error().message());
      watching_resizes_ = added.ok();
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
    if (watching_resizes_) context_.loop->Remove(resize_watch_->fd());
    watching_resizes_ = false;
    for (Port& port : ports_) {
      if (port.watching) context_.loop->Remove(port.spec.input_fd);
      // Before the dup is closed: epoll keeps a registration until every fd
      // of its open file is closed, and output_fd stays open.
      if (port.output_watch) context_.loop->Remove(port.output_watch.get());
      ConsolePortSpec spec = std::move(port.spec);
      int terminal = port.terminal_fd;
      // Drops pending output, closes the dup.
      port = Port{.spec = std::move(spec), .terminal_fd = terminal};
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
    SendSize(id);  // after CONSOLE_PORT: Linux resizes hvc ports only
  }

  // VIRTIO_CONSOLE_RESIZE with struct virtio_console_resize {le16 cols;
  // le16 rows;} after the header (virtio 1.2 §5.3.6.2). Linux read rows
  // first until commit 5326ab737a47; the 6.1 kernel we ship (Debian's) has
  // that fix, and libkrun sends this order too.
  void SendSize(uint32_t id) {
    const Port& port = ports_[id];
    if (port.terminal_fd < 0 || !port.ready) return;
    auto size = TerminalSize(port.terminal_fd);  // rows, cols
    if (!size) return;                           // not a terminal any more, or 0x0
    const uint16_t cols = size->second, rows = size->first;
    char tail[4];
    std::memcpy(tail, &cols, 2);
    std::memcpy(tail + 2, &rows, 2);
    SendControl(id, vcon::kResize, 0, std::string_view(tail, sizeof(tail)));
  }

  // SIGWINCH: every console port on a terminal gets its size again.
  void TerminalResized() {
    if (!active_) return;  // raced with Reset
    resize_watch_->Drain();
    for (uint32_t id = 0; id < ports_.size(); ++id) SendSize(id);
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
    DrainQueueWhile(
        context_, vcon::kControlReceiveQueue, name(), [this] { return !pending_control_.empty(); },
        [this](const DescriptorChain& chain) -> uint32_t {
          std::vector<uint8_t> message = std::move(pending_control_.front());
          pending_control_.pop_front();
          if (chain.writable_bytes() < message.size()) {
            // guest-controlled: a buffer too small for the message. A cut
            // message would be misread, so it is dropped and the buffer returned.
            log::WarnLimited(name(), "virtio-console: control buffer too small, message dropped");
            return 0;
          }
          ChainWriter writer(*context_.memory, chain);
          return writer.Write(message).ok() ? static_cast<uint32_t>(message.size()) : 0;
        });
  }

  // --- Port data ---

  // Guest output, one chain at a time. A blocking fd takes a whole chain.
  // A non-blocking one (a pipe or socket a libkrun client passed) may take
  // part of it: the rest stays in pending_output and no further chain of the
  // port is popped until EPOLLOUT lets the fd take it (OutputWritable). The
  // chain itself goes back at once, its bytes copied out (its used length is
  // 0 anyway, and Linux frees a tx buffer once used); the chains held back
  // fill the guest's ring, so its writes block (will_write_block) instead of
  // outrunning the fd. QEMU's virtio-serial throttles a port the same way
  // (virtio_serial_throttle_port when its chardev would block).
  void Transmit(uint32_t id) {
    Port& port = ports_[id];
    DrainQueueWhile(
        context_, vcon::TransmitQueue(id), name(), [&port] { return port.pending_output.empty(); },
        [this, &port, id](const DescriptorChain& chain) -> uint32_t {
          if (port.spec.output_fd < 0) return 0;  // the output is discarded
          port.pending_output.resize(std::min(chain.readable_bytes(), kMaxChunk));
          ChainReader reader(*context_.memory, chain);
          port.pending_output.resize(reader.ReadSome(port.pending_output));
          WriteOutput(id);  // the bytes are copied out: the chain goes back at once
          return 0;
        });
  }

  // Writes what the output fd takes of pending_output; the rest waits for
  // EPOLLOUT only if the fd would block. Any other error (EPIPE: the reader
  // is gone) drops the bytes, as output nobody reads is lost anyway. A pipe
  // without a reader gives EPIPE, not a fatal SIGPIPE: the VMM ignores it
  // process-wide (InstallTerminalSignalHandlers, runtime/launch.cc).
  void WriteOutput(uint32_t id) {
    Port& port = ports_[id];
    std::vector<uint8_t>& bytes = port.pending_output;
    int fd = port.spec.output_fd;
    size_t done = 0;
    if (port.output_kind == OutputKind::kFile) {
      WriteCapped(fd, bytes, port.spec.max_output_bytes);
      done = bytes.size();
    }
    while (done < bytes.size()) {
      const uint8_t* data = bytes.data() + done;
      size_t size = bytes.size() - done;
      ssize_t n = port.output_kind == OutputKind::kSocket ? ::send(fd, data, size, MSG_NOSIGNAL)
                                                          : ::write(fd, data, size);
      if (n > 0) {
        done += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;
      } else {
        done = bytes.size();
      }
    }
    bytes.erase(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(done));
    if (bytes.empty()) return StopWatchingOutput(id);
    WatchOutput(id);
  }

  // The loop holds one registration and callback per fd number, and the
  // output fd may already have one: it is the input too (a socket port,
  // added and removed by UpdateWatch on its own schedule), or another port's
  // output. So EPOLLOUT is watched on a dup (F_DUPFD: the device thread's
  // seccomp filter allows fcntl, not dup), which epoll registers apart, for
  // as long as bytes are pending.
  void WatchOutput(uint32_t id) {
    Port& port = ports_[id];
    if (port.output_watch) return;
    UniqueFd watch(::fcntl(port.spec.output_fd, F_DUPFD_CLOEXEC, 0));
    Result<void> added = Error::FromErrno("fcntl F_DUPFD_CLOEXEC");
    if (watch) {
      added = context_.loop->Add(watch.get(), EPOLLOUT, [this, id](uint32_t) {
        std::lock_guard lock(*context_.lock);
        OutputWritable(id);
      });
    }
    if (!added.ok()) {
      // Without a wake-up the port would stall for good: lose the bytes.
      log::WarnLimited(name(), "virtio-console: port {}: cannot wait for output: {}", id,
                       added.error().message());
      port.pending_output.clear();
      return;
    }
    port.output_watch = std::move(watch);
  }

  void StopWatchingOutput(uint32_t id) {
    Port& port = ports_[id];
    if (!port.output_watch) return;
    context_.loop->Remove(port.output_watch.get());  // before closing, see Reset
    port.output_watch.Reset();
  }

  // EPOLLOUT (or EPOLLERR/EPOLLHUP, which the next write turns into EPIPE).
  void OutputWritable(uint32_t id) {
    Port& port = ports_[id];
    if (!active_ || !port.output_watch) return;  // raced with Reset
    WriteOutput(id);
    if (port.pending_output.empty()) Transmit(id);  // the chains held back
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
  // Made at creation, before any sandbox (eventfd), if a port has a terminal.
  std::optional<TerminalResizeWatch> resize_watch_;
  bool watching_resizes_ = false;  // resize_watch_ registered with the loop
  bool has_terminal_ = false;      // a console port on a terminal: F_SIZE offered
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
  std::optional<TerminalResizeWatch> resize_watch;
  bool has_terminal =
      std::any_of(config.ports.begin(), config.ports.end(),
                  [](const ConsolePortSpec& spec) { return TerminalOf(spec) >= 0; });
  if (has_terminal) {
    auto watch = TerminalResizeWatch::Create();
    if (watch.ok()) resize_watch.emplace(std::move(*watch));
    if (!watch.ok())
      log::Warn("virtio-console: the guest keeps the terminal's first size: {}",
                watch.error().message());
  }
  return std::unique_ptr<VirtioDevice>(
      std::make_unique<MultiportConsoleDevice>(std::move(config), std::move(resize_watch)));
}

}  // namespace vk::virtio
