// SwitchServer: a Lan's unix stream listener. Each peer that connects (a
// `vk run --net=SOCK` VM, a fleet's service VM, QEMU's `-netdev stream`,
// gvisor-tap-vsock) becomes a StreamPort joined to its own switch port;
// a peer that disconnects leaves. `vk switch` and fleet controllers run one.
// Everything runs on the Lan's EventLoop thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "base/event_loop.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "net/lan.h"
#include "net/stream_port.h"

namespace vk::net {

class SwitchServer {
 public:
  // Listens on `path` (a stale socket there is replaced) and accepts on `loop`.
  static Result<std::unique_ptr<SwitchServer>> Listen(EventLoop& loop, Lan& lan,
                                                      const std::string& path);
  // Runs on the loop's thread, or after the loop stopped for good.
  ~SwitchServer();
  SwitchServer(const SwitchServer&) = delete;
  SwitchServer& operator=(const SwitchServer&) = delete;

 private:
  SwitchServer(EventLoop& loop, Lan& lan, UniqueFd listener, std::string path);
  void Accept();

  EventLoop& loop_;
  Lan& lan_;
  UniqueFd listener_;
  std::string path_;
  struct Peer {
    std::unique_ptr<StreamPort> port;
    FrameSink* ingress = nullptr;  // the switch port's side, owned by lan_
  };
  std::map<StreamPort*, Peer> peers_;
  uint64_t count_ = 0;
};

}  // namespace vk::net
