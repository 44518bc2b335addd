#include "virtio/vsock/vsock_device.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <deque>
#include <map>

#include "base/log.h"
#include "base/strings.h"
#include "base/unix_socket.h"
#include "virtio/queue_drain.h"
#include "virtio/vsock/host_listener.h"
#include "virtio/vsock/vsock_connection.h"
#include "virtio/vsock/vsock_event.h"
#include "virtio/vsock/vsock_packet.h"

namespace vk::virtio {
namespace {

using vsock::Connection;
using vsock::HostListener;
using vsock::PacketHeader;

constexpr size_t kRxQueue = 0, kTxQueue = 1;
// Abuse bounds: connections per VM, control packets waiting for rx buffers,
// payload of one guest packet, and the length of a "CONNECT <port>\n" line.
constexpr size_t kMaxConnections = 1024;
constexpr size_t kMaxPendingControl = 4096;
constexpr uint32_t kMaxPayload = 64 * 1024;
constexpr size_t kMaxConnectLine = 32;
constexpr uint32_t kFirstHostPort = 1u << 30;

uint64_t Key(uint32_t guest_port, uint32_t host_port) {
  return (uint64_t{guest_port} << 32) | host_port;
}

// A guest's connect to host port P: a non-blocking connect to "<uds>_<P>".
// Non-blocking because a unix connect blocks while the listener's backlog is
// full, and a guest may target a host service that does not accept: the
// device thread must never wait on it (EAGAIN then resets the guest's
// connection).
Result<UniqueFd> ConnectHostPort(const std::string& path) {
  return ConnectUnix(path, SocketBlocking::kNonBlocking);
}

class VsockDevice : public VirtioDevice {
 public:
  explicit VsockDevice(VsockConfig config) : config_(std::move(config)) {}
  ~VsockDevice() override { Reset(); }

  DeviceType type() const override { return DeviceType::kVsock; }
  std::string_view name() const override { return "virtio-vsock"; }
  uint64_t features() const override { return 0; }
  std::vector<uint16_t> queue_max_sizes() const override { return {256, 256, 64}; }
  // vhost-user vsock (QEMU's vhost-user-vsock-device, vhost-vsock-common.c)
  // keeps the event queue in the front end: the back end gets rx and tx. The
  // event queue is used only after a restore, which a vhost-user VM never has.
  size_t vhost_user_queue_count() const override { return 2; }

  void ReadConfig(uint64_t offset, std::span<uint8_t> data) override {
    uint8_t config[8];
    std::memcpy(config, &config_.guest_cid, 8);  // guest_cid, le64 (§5.10.4)
    for (size_t i = 0; i < data.size(); ++i) {
      data[i] = offset + i < sizeof(config) ? config[offset + i] : 0;
    }
  }

  Result<void> Activate(const DeviceContext& context) override {
    context_ = context;
    active_ = true;  // from here on, Reset() undoes what was set up
    auto listened = Listen();
    if (!listened.ok()) Reset();
    return listened;
  }

  void ProcessQueue(size_t index) override {
    if (index == kTxQueue) ProcessTx();
    if (index == kRxQueue || index == kTxQueue) FlushRx();
    if (index == vsock::kEventQueue) OnEventQueueNotify();
  }

  // No connection survives a snapshot (their host ends are sockets of the
  // saved process): the restored device tells the driver with a
  // TRANSPORT_RESET event (§5.10.6.7), on which Linux resets every connected
  // socket, so the guest's programs see ECONNRESET instead of a silent hang.
  Result<void> SaveState(StateWriter& out) override {
    out.BeginRecord("vsck", 1);
    out.U64(config_.guest_cid);
    out.U32(next_host_port_);
    return Ok();
  }
  Result<void> RestoreState(StateReader& in) override {
    VK_TRY(in.ExpectRecord("vsck", 1));
    uint64_t saved_cid = VK_TRY(in.U64());
    // Host ports of old connections are not reused while the guest may
    // still hold them (before it handles the reset).
    next_host_port_ = std::max(VK_TRY(in.U32()), kFirstHostPort);
    if (saved_cid != config_.guest_cid) {
      log::Info("virtio-vsock: guest CID {} restored as {}", saved_cid, config_.guest_cid);
    }
    reset_pending_ = true;
    guest_may_hold_old_connections_ = true;
    SendPendingReset();
    return Ok();
  }

  void Reset() override {
    if (!active_) return;
    for (auto& [key, connection] : connections_) context_.loop->Remove(connection->socket.get());
    for (auto& [fd, connection] : handshakes_) context_.loop->Remove(fd);
    connections_.clear();
    handshakes_.clear();
    control_.clear();
    listeners_.clear();  // stops watching and removes the socket files
    reset_pending_ = false;
    guest_may_hold_old_connections_ = false;
    active_ = false;
  }

 private:
  const GuestMemory& memory() const { return *context_.memory; }
  Queue& queue(size_t index) { return context_.queues[index]; }

  PacketHeader Header(const Connection& c, uint16_t op, uint32_t len = 0, uint32_t flags = 0) {
    PacketHeader h{};
    h.src_cid = vsock::kHostCid;
    h.dst_cid = config_.guest_cid;
    h.src_port = c.host_port;
    h.dst_port = c.guest_port;
    h.len = len;
    h.type = vsock::kTypeStream;
    h.op = op;
    h.flags = flags;
    h.buf_alloc = vsock::kBufAlloc;
    h.fwd_cnt = c.fwd_cnt;
    return h;
  }

  void QueueControl(Connection& c, uint16_t op, uint32_t flags = 0) {
    if (control_.size() >= kMaxPendingControl) {
      log::WarnLimited(name(),
                       "virtio-vsock: guest is not taking packets; dropping a control packet");
      return;
    }
    c.reported_fwd_cnt = c.fwd_cnt;
    control_.push_back(Header(c, op, 0, flags));
  }

  void QueueReset(const PacketHeader& to) {
    Connection peer;
    peer.guest_port = to.src_port;
    peer.host_port = to.dst_port;
    QueueControl(peer, vsock::kOpRst);
  }

  // The driver notifies the event queue when it posts buffers. Once the
  // TRANSPORT_RESET is out, the next notify is Linux re-posting that buffer,
  // which it does after handling the event (virtio_transport_event_work):
  // every connection from before the snapshot is reset by then.
  void OnEventQueueNotify() {
    const bool reset_delivered = !reset_pending_;
    SendPendingReset();
    if (reset_delivered) guest_may_hold_old_connections_ = false;
  }

  // A TRANSPORT_RESET not delivered yet (no event buffer posted): retried
  // when the driver notifies the event queue.
  void SendPendingReset() {
    // Behind vhost-user the front end keeps the event queue (two queues here).
    if (!active_ || !reset_pending_ || context_.queues.size() <= vsock::kEventQueue) return;
    reset_pending_ = !vsock::SendEvent(memory(), queue(vsock::kEventQueue), *context_.interrupt,
                                       vsock::kEventTransportReset);
    log::Debug("virtio-vsock: TRANSPORT_RESET {}",
               reset_pending_ ? "pending (no event buffer)" : "sent");
  }

  // --- guest -> host (tx queue) ---

  void ProcessTx() {
    DrainQueue(context_, kTxQueue, name(), [this](const DescriptorChain& chain) {
      HandleTxChain(chain);
      return 0u;
    });
  }

  void HandleTxChain(const DescriptorChain& chain) {
    // guest-controlled: every header field and the payload length.
    ChainReader reader(memory(), chain);
    auto header = reader.Read<PacketHeader>();
    if (!header.ok()) return;
    const PacketHeader& h = *header;
    if (h.src_cid != config_.guest_cid || h.dst_cid != vsock::kHostCid ||
        h.type != vsock::kTypeStream) {
      if (h.op != vsock::kOpRst) QueueReset(h);
      return;
    }
    if (h.len > kMaxPayload || h.len > reader.remaining()) {
      QueueReset(h);
      return;
    }
    std::string payload(h.len, '\0');
    if (!reader.Read(std::span(reinterpret_cast<uint8_t*>(payload.data()), h.len)).ok()) return;
    HandlePacket(h, payload);
  }

  void HandlePacket(const PacketHeader& h, const std::string& payload) {
    auto it = connections_.find(Key(h.src_port, h.dst_port));
    if (h.op == vsock::kOpRequest) {
      if (it == connections_.end()) ConnectToHost(h);
      return;
    }
    if (it == connections_.end()) {
      // Not answered with RST while the guest may still hold connections
      // from before a restore: an RST reads as the host closing the
      // connection (EOF), and the agent then ends a command it would resume
      // after the TRANSPORT_RESET's ECONNRESET. That reset ends them anyway.
      if (h.op != vsock::kOpRst && !guest_may_hold_old_connections_) QueueReset(h);
      return;
    }
    Connection& c = *it->second;
    c.peer_buf_alloc = h.buf_alloc;
    c.peer_fwd_cnt = h.fwd_cnt;
    switch (h.op) {
      case vsock::kOpResponse: OnResponse(c); break;
      case vsock::kOpRw: OnData(c, payload); break;
      case vsock::kOpShutdown: OnShutdown(c, h.flags); break;
      case vsock::kOpRst: Close(it->first); return;
      case vsock::kOpCreditRequest: QueueControl(c, vsock::kOpCreditUpdate); break;
      case vsock::kOpCreditUpdate: break;
      default: QueueControl(c, vsock::kOpRst), Close(it->first); return;
    }
    // OnData and OnShutdown may have closed (freed) the connection: a guest
    // closing a socket sends SHUTDOWN with both flags. Look it up again.
    auto still = connections_.find(Key(h.src_port, h.dst_port));
    if (still != connections_.end() && still->second->read_paused) ResumeReading(*still->second);
  }

  void ConnectToHost(const PacketHeader& h) {
    auto socket = ConnectHostPort(config_.uds_path + "_" + std::to_string(h.dst_port));
    if (!socket.ok() || connections_.size() >= kMaxConnections) {
      QueueReset(h);
      return;
    }
    auto c = std::make_unique<Connection>();
    c->socket = std::move(*socket);
    c->guest_port = h.src_port;
    c->host_port = h.dst_port;
    c->peer_buf_alloc = h.buf_alloc;
    c->peer_fwd_cnt = h.fwd_cnt;
    Connection& connection = *c;
    if (!Watch(connection).ok()) {
      QueueReset(h);
      return;
    }
    connections_[Key(c->guest_port, c->host_port)] = std::move(c);
    QueueControl(connection, vsock::kOpResponse);
  }

  void OnResponse(Connection& c) {
    if (c.state != Connection::State::kConnecting) return;
    c.state = Connection::State::kEstablished;
    UpdateInterest(c);
    if (!c.announce_ok) return;
    std::string ok = "OK " + std::to_string(c.host_port) + "\n";
    ssize_t ignored = ::send(c.socket.get(), ok.data(), ok.size(), MSG_NOSIGNAL);
    (void)ignored;
  }

  void OnData(Connection& c, const std::string& payload) {
    if (c.state != Connection::State::kEstablished) return;
    if (c.to_socket.size() + payload.size() > vsock::kBufAlloc) {
      // The guest ignored our buf_alloc: drop the connection.
      QueueControl(c, vsock::kOpRst);
      Close(Key(c.guest_port, c.host_port));
      return;
    }
    c.to_socket += payload;
    FlushToSocket(c);
  }

  void OnShutdown(Connection& c, uint32_t flags) {
    if (flags & vsock::kShutdownSend) c.guest_done_sending = true;
    if (flags & vsock::kShutdownReceive) c.host_eof = true;  // guest reads no more
    if (c.guest_done_sending && c.to_socket.empty()) ::shutdown(c.socket.get(), SHUT_WR);
    if ((flags & vsock::kShutdownSend) && (flags & vsock::kShutdownReceive) &&
        c.to_socket.empty()) {
      QueueControl(c, vsock::kOpRst);
      Close(Key(c.guest_port, c.host_port));
    }
  }

  void FlushToSocket(Connection& c) {
    while (!c.to_socket.empty()) {
      ssize_t n = ::send(c.socket.get(), c.to_socket.data(), c.to_socket.size(), MSG_NOSIGNAL);
      if (n <= 0) break;
      c.to_socket.erase(0, static_cast<size_t>(n));
      c.fwd_cnt += static_cast<uint32_t>(n);
    }
    UpdateInterest(c);
    if (c.to_socket.empty() && c.guest_done_sending) ::shutdown(c.socket.get(), SHUT_WR);
    // Tell the guest about freed space before it runs out of credit.
    if (c.fwd_cnt - c.reported_fwd_cnt >= vsock::kBufAlloc / 4 ||
        (c.to_socket.empty() && c.fwd_cnt != c.reported_fwd_cnt)) {
      QueueControl(c, vsock::kOpCreditUpdate);
    }
  }

  // --- host -> guest (rx queue) ---

  void FlushRx() {
    if (!active_) return;
    bool pushed = false;
    for (bool progress = true; progress;) {
      progress = false;
      while (!control_.empty() && SendToGuest(control_.front(), {})) {
        control_.pop_front();
        pushed = progress = true;
      }
      if (!control_.empty()) break;  // no rx buffers left
      for (auto& [key, c] : connections_) progress |= SendData(*c);
      pushed |= progress;
    }
    if (pushed && queue(kRxQueue).NeedsInterrupt(memory())) {
      context_.interrupt->Trigger(Interrupt::Reason::kUsedBuffer);
    }
  }

  // Puts one packet in the next rx buffer; false when the guest has none.
  bool SendToGuest(const PacketHeader& header, std::string_view payload, size_t* sent = nullptr) {
    auto popped = queue(kRxQueue).Pop(memory());
    if (!popped.ok() || !popped->has_value()) return false;
    DescriptorChain chain = std::move(**popped);
    ChainWriter writer(memory(), chain);
    PacketHeader h = header;
    size_t room = writer.remaining() > sizeof(h) ? writer.remaining() - sizeof(h) : 0;
    size_t n = std::min(room, payload.size());
    h.len = static_cast<uint32_t>(n);
    bool ok = writer.Write(h).ok() &&
              writer.Write(std::span(reinterpret_cast<const uint8_t*>(payload.data()), n)).ok();
    auto pushed = queue(kRxQueue).Push(memory(), std::move(chain),
                                       ok ? static_cast<uint32_t>(writer.written()) : 0);
    (void)pushed;
    if (sent) *sent = ok ? n : 0;
    return true;
  }

  bool SendData(Connection& c) {
    if (c.state != Connection::State::kEstablished) return false;
    ReadFromSocket(c);
    bool pushed = false;
    while (!c.from_socket.empty()) {
      size_t sent = 0;
      uint32_t len = static_cast<uint32_t>(std::min<size_t>(c.from_socket.size(), c.PeerCredit()));
      if (len == 0) break;
      c.reported_fwd_cnt = c.fwd_cnt;
      if (!SendToGuest(Header(c, vsock::kOpRw), std::string_view(c.from_socket).substr(0, len),
                       &sent)) {
        break;
      }
      pushed = true;
      c.tx_cnt += static_cast<uint32_t>(sent);
      c.from_socket.erase(0, sent);
      if (sent == 0) break;
    }
    if (c.from_socket.empty() && c.host_eof && c.state == Connection::State::kEstablished) {
      // The host closed its side: tell the guest, which answers with RST.
      c.state = Connection::State::kClosing;
      QueueControl(c, vsock::kOpShutdown, vsock::kShutdownReceive | vsock::kShutdownSend);
      pushed = true;  // FlushRx sends the queued SHUTDOWN on its next round
    }
    return pushed;
  }

  void ReadFromSocket(Connection& c) {
    while (!c.host_eof) {
      uint32_t budget = c.ReadBudget();
      if (budget == 0) break;
      char buffer[16384];
      ssize_t n = ::recv(c.socket.get(), buffer, std::min<size_t>(budget, sizeof(buffer)), 0);
      if (n > 0) {
        c.from_socket.append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) c.host_eof = true;
      break;  // EAGAIN: nothing more for now
    }
    c.read_paused = !c.host_eof && c.ReadBudget() == 0;
    UpdateInterest(c);
  }

  void ResumeReading(Connection& c) {
    c.read_paused = false;
    UpdateInterest(c);
  }

  // --- host sockets ---

  Result<void> Watch(Connection& c) {
    int fd = c.socket.get();
    return context_.loop->Add(fd, EPOLLIN, [this, fd](uint32_t events) {
      std::lock_guard lock(*context_.lock);
      OnSocketEvent(fd, events);
    });
  }

  // Host bytes are read only once the guest accepted the connection: a
  // level-triggered EPOLLIN that nobody consumes (a client that sends before
  // the guest answers, as the exec hello does) would spin the device thread
  // and starve the guest. A hang-up is reported whatever the interest, so
  // with nothing to read or write it is edge-triggered: reported once, not
  // on every wait while the connection waits for the guest (a closed host
  // side in kClosing until the guest's RST, seconds on a PVM host).
  void UpdateInterest(Connection& c) {
    uint32_t events = 0;
    bool readable_state = c.state == Connection::State::kEstablished;
    if (readable_state && !c.read_paused && !c.host_eof) events |= EPOLLIN;
    if (!c.to_socket.empty()) events |= EPOLLOUT;
    if (events == 0) events = EPOLLET;
    auto modified = context_.loop->Modify(c.socket.get(), events);
    (void)modified;
  }

  Connection* FindBySocket(int fd) {
    for (auto& [key, c] : connections_) {
      if (c->socket.get() == fd) return c.get();
    }
    return nullptr;
  }

  void OnSocketEvent(int fd, uint32_t events) {
    if (auto it = handshakes_.find(fd); it != handshakes_.end()) {
      ReadConnectLine(it->second);
      return;
    }
    Connection* c = FindBySocket(fd);
    if (c == nullptr) return;
    bool gave_up_connecting =
        c->state == Connection::State::kConnecting && (events & (EPOLLHUP | EPOLLRDHUP));
    if ((events & EPOLLERR) || gave_up_connecting) {
      QueueControl(*c, vsock::kOpRst);
      Close(Key(c->guest_port, c->host_port));
    } else {
      if (events & EPOLLOUT) FlushToSocket(*c);
      // Peer hung up: nothing more will arrive once its buffer is drained.
      if ((events & EPOLLHUP) && c->read_paused) c->read_paused = false;
    }
    FlushRx();
  }

  // The host sockets (vsock/host_listener.h: owner-only, EMFILE back-off).
  Result<void> Listen() {
    auto add = [&](const std::string& path, HostListener::OnClient on_client) -> Result<void> {
      listeners_.push_back(
          VK_TRY(HostListener::Create(context_.loop, context_.lock, path, std::move(on_client))));
      return Ok();
    };
    VK_TRY(add(config_.uds_path, [this](UniqueFd client) { AddHostClient(std::move(client)); }));
    for (const auto& [path, port] : config_.port_sockets) {
      VK_TRY(add(path,
                 [this, port = port](UniqueFd client) { AddPortClient(std::move(client), port); }));
    }
    return Ok();
  }

  bool RoomForConnection() const {
    return connections_.size() + handshakes_.size() < kMaxConnections;
  }

  // A client of the generic socket: it names the guest port in a line first.
  void AddHostClient(UniqueFd client) {
    if (!RoomForConnection()) return;
    auto c = std::make_unique<Connection>();
    c->state = Connection::State::kAwaitingConnectLine;
    c->socket = std::move(client);
    int fd = c->socket.get();
    if (!Watch(*c).ok()) return;
    handshakes_[fd] = std::move(c);
  }

  // A client of a dedicated socket: connect it to the guest port at once.
  void AddPortClient(UniqueFd client, uint32_t port) {
    if (!RoomForConnection()) return;
    auto c = std::make_unique<Connection>();
    c->socket = std::move(client);
    c->announce_ok = false;
    if (!Watch(*c).ok()) return;
    ConnectGuestPort(std::move(c), port);
  }

  void ConnectGuestPort(std::unique_ptr<Connection> c, uint32_t port) {
    c->state = Connection::State::kConnecting;
    c->guest_port = port;
    c->host_port = next_host_port_++;
    Connection& connection = *c;
    connections_[Key(c->guest_port, c->host_port)] = std::move(c);
    UpdateInterest(connection);  // nothing to read until the guest answers
    QueueControl(connection, vsock::kOpRequest);
    FlushRx();
  }

  void ReadConnectLine(std::unique_ptr<Connection>& c) {
    int fd = c->socket.get();
    char byte;
    while (::recv(fd, &byte, 1, 0) == 1) {  // byte-wise: never read past the line
      if (byte == '\n') return StartHostConnection(fd);
      c->connect_line.push_back(byte);
      if (c->connect_line.size() > kMaxConnectLine) break;
    }
    if (c->connect_line.size() > kMaxConnectLine || errno != EAGAIN) DropHandshake(fd);
  }

  void StartHostConnection(int fd) {
    std::unique_ptr<Connection> c = std::move(handshakes_[fd]);
    handshakes_.erase(fd);
    std::string_view line = c->connect_line;
    auto port = StartsWith(line, "CONNECT ") ? ParseUint(line.substr(8)) : std::nullopt;
    if (!port || *port > UINT32_MAX) {
      context_.loop->Remove(fd);
      return;
    }
    ConnectGuestPort(std::move(c), static_cast<uint32_t>(*port));
  }

  void DropHandshake(int fd) {
    context_.loop->Remove(fd);
    handshakes_.erase(fd);
  }

  void Close(uint64_t key) {
    auto it = connections_.find(key);
    if (it == connections_.end()) return;
    context_.loop->Remove(it->second->socket.get());
    connections_.erase(it);
  }

  VsockConfig config_;
  DeviceContext context_;
  bool active_ = false;
  std::vector<std::shared_ptr<HostListener>> listeners_;
  std::map<uint64_t, std::unique_ptr<Connection>> connections_;
  std::map<int, std::unique_ptr<Connection>> handshakes_;
  std::deque<PacketHeader> control_;
  uint32_t next_host_port_ = kFirstHostPort;
  bool reset_pending_ = false;
  // Restored, and the guest has not yet shown it handled the TRANSPORT_RESET.
  bool guest_may_hold_old_connections_ = false;
};

}  // namespace

Result<std::unique_ptr<VirtioDevice>> CreateVsockDevice(const VsockConfig& config) {
  if (config.guest_cid <= vsock::kHostCid) return Error("vsock guest CID must be above 2");
  if (config.uds_path.empty()) return Error("vsock needs a unix socket path");
  return std::unique_ptr<VirtioDevice>(std::make_unique<VsockDevice>(config));
}

}  // namespace vk::virtio
