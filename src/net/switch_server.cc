#include "net/switch_server.h"

#include <unistd.h>

#include "base/log.h"

namespace vk::net {

Result<std::unique_ptr<SwitchServer>> SwitchServer::Listen(EventLoop& loop, Lan& lan,
                                                           const std::string& path) {
  UniqueFd listener = VK_TRY(ListenUnixStream(path));
  int fd = listener.get();
  std::unique_ptr<SwitchServer> server(new SwitchServer(loop, lan, std::move(listener), path));
  SwitchServer* raw = server.get();
  VK_TRY(loop.Add(fd, EPOLLIN, [raw](uint32_t) { raw->Accept(); }));
  return server;
}

SwitchServer::SwitchServer(EventLoop& loop, Lan& lan, UniqueFd listener, std::string path)
    : loop_(loop), lan_(lan), listener_(std::move(listener)), path_(std::move(path)) {}

SwitchServer::~SwitchServer() {
  loop_.Remove(listener_.get());
  for (auto& [raw, peer] : peers_) lan_.RemovePort(peer.ingress);
  ::unlink(path_.c_str());
}

void SwitchServer::Accept() {
  for (;;) {
    auto fd = AcceptUnixStream(listener_.get());
    if (!fd.ok() && fd.error().errno_value() == 0) {  // a peer that is not us: refused
      log::Warn("switch {}: {}", path_, fd.error().message());
      continue;
    }
    if (!fd.ok()) return;  // EAGAIN: no more pending
    auto port = StreamPort::Create(loop_, std::move(*fd), nullptr);
    if (!port.ok()) continue;
    StreamPort* raw = port->get();
    FrameSink* ingress = lan_.AddPort(raw, "peer-" + std::to_string(++count_));
    raw->SetPeer(ingress);
    raw->SetDisconnectCallback([this, raw, ingress](const Error& why) {
      log::Info("switch: a peer left ({})", why.message());
      // Not inside the port's own callback: removal destroys it.
      loop_.Post([this, raw, ingress] {
        lan_.RemovePort(ingress);
        peers_.erase(raw);
      });
    });
    peers_[raw] = Peer{std::move(*port), ingress};
  }
}

}  // namespace vk::net
