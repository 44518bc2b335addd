// Switch: the userspace Ethernet segment every VM of a LAN (and the gateway)
// plugs into. A learning bridge (IEEE 802.1D §7.8): it learns which port a
// source MAC lives behind, forwards unicast to that port, floods unknown
// unicast, broadcast and multicast, and never sends a frame back out of the
// port it came in on. Unlike a plain bridge it never lets a MAC move: the
// first port to send from a MAC owns it until that port is removed, and
// frames from other ports using it are dropped (a VM cannot take over a
// neighbour's or the gateway's traffic). An optional IngressGuard vets
// each frame past that (source IPs, see SourceGuard). Single-threaded: it runs on the switch event
// loop, and a FrameSink may call back into Receive/AddPort/RemovePort while delivering.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/frame_sink.h"
#include "net/ethernet.h"
#include "net/frame_clock.h"

namespace vk::net {

using PortId = uint32_t;

struct PortCounters {
  uint64_t rx_frames = 0;  // frames received from the port (accepted)
  uint64_t rx_bytes = 0;
  uint64_t tx_frames = 0;  // frames delivered to the port's sink
  uint64_t tx_bytes = 0;
  uint64_t rx_dropped = 0;  // malformed, spoofed or over the MAC cap
  uint64_t tx_dropped = 0;  // the sink refused the frame (full)
};

struct SwitchOptions {
  // Stop unicasting to a MAC not heard from for this long (802.1D default:
  // 300 s): frames for it are flooded again. Its port still owns it.
  std::chrono::seconds mac_aging{300};
  // MACs owned per port. Bounds MAC-flooding abuse: a guest that sends
  // from random source MACs cannot grow the table (<= ports x this) or
  // evict its neighbours; frames from further new MACs are dropped, unless
  // the port gives up one of its own MACs idle for longer than mac_aging.
  size_t max_macs_per_port = 64;
};

// Decides, per frame a port sends, whether it may enter the LAN. Called
// after the source MAC was admitted (so Owner(src) == from).
class IngressGuard {
 public:
  virtual ~IngressGuard() = default;
  virtual bool Admit(PortId from, const EthernetFrame& frame) = 0;
};

class Switch {
 public:
  explicit Switch(SwitchOptions options = {}, Clock clock = SteadyClock());
  Switch(const Switch&) = delete;
  Switch& operator=(const Switch&) = delete;

  // `egress` (not owned) receives the frames the switch sends to this port
  // and must stay valid until RemovePort.
  PortId AddPort(FrameSink* egress, std::string name);
  // Forgets the port and frees every MAC it owned. Unknown ids are ignored.
  void RemovePort(PortId port);
  // `guard` (not owned, null for none) must outlive its use.
  void SetIngressGuard(IngressGuard* guard) { guard_ = guard; }
  // Binds `mac` to `port` for good (no aging, no moving): frames from other
  // ports claiming it as their source are dropped. Used for the gateway so
  // a guest cannot steal its traffic. False if the port does not exist.
  bool PinMac(PortId port, const MacAddress& mac);

  // A frame the port's peer sent. Frames shorter than an Ethernet header,
  // longer than kMaxFrame or from a multicast source are dropped.
  void Receive(PortId from, Bytes frame);

  std::optional<PortCounters> Counters(PortId port) const;
  std::optional<PortId> Lookup(const MacAddress& mac) const;  // learned and fresh
  std::optional<PortId> Owner(const MacAddress& mac) const;   // fresh or not
  size_t LearnedCount(PortId port) const;
  std::vector<PortId> Ports() const;
  const std::string* PortName(PortId port) const;

 private:
  struct Port {
    FrameSink* sink = nullptr;  // not owned
    std::string name;
    PortCounters counters;
    size_t learned = 0;
  };
  struct Entry {
    PortId port = 0;
    TimePoint last_seen;
    bool pinned = false;
  };

  bool Learn(PortId from, Port& port, const MacAddress& src);
  void ForgetIdleOfFullPorts(TimePoint now);
  void Forget(uint64_t key);
  void SendTo(PortId to, Bytes frame);
  void Flood(PortId from, Bytes frame);
  bool Fresh(const Entry& entry, TimePoint now) const;

  SwitchOptions options_;
  Clock clock_;
  PortId next_port_ = 1;
  std::map<PortId, Port> ports_;
  std::unordered_map<uint64_t, Entry> table_;  // MacAddress::ToU64() -> entry
  TimePoint next_sweep_{};
  IngressGuard* guard_ = nullptr;  // not owned
};

}  // namespace vk::net
