#include "net/switch.h"

#include <algorithm>
#include <utility>

namespace vk::net {

Switch::Switch(SwitchOptions options, Clock clock) : options_(options), clock_(std::move(clock)) {}

PortId Switch::AddPort(FrameSink* egress, std::string name) {
  PortId id = next_port_++;
  ports_[id] = Port{egress, std::move(name), {}, 0};
  return id;
}

void Switch::RemovePort(PortId port) {
  if (ports_.erase(port) == 0) return;
  for (auto it = table_.begin(); it != table_.end();) {
    it = it->second.port == port ? table_.erase(it) : std::next(it);
  }
}

bool Switch::PinMac(PortId port, const MacAddress& mac) {
  auto it = ports_.find(port);
  if (it == ports_.end() || mac.IsMulticast()) return false;
  Forget(mac.ToU64());
  table_[mac.ToU64()] = Entry{port, clock_(), true};
  ++it->second.learned;
  return true;
}

void Switch::Receive(PortId from, Bytes frame) {
  auto it = ports_.find(from);
  if (it == ports_.end()) return;
  Port& port = it->second;
  auto ethernet = ParseEthernet(frame);
  if (!ethernet.ok() || frame.size() > kMaxFrame || ethernet->header.src.IsMulticast() ||
      !Learn(from, port, ethernet->header.src) ||
      (guard_ != nullptr && !guard_->Admit(from, *ethernet))) {
    ++port.counters.rx_dropped;
    return;
  }
  ++port.counters.rx_frames;
  port.counters.rx_bytes += frame.size();
  const MacAddress& dst = ethernet->header.dst;
  if (dst.IsMulticast()) return Flood(from, frame);
  auto entry = table_.find(dst.ToU64());
  if (entry == table_.end() || !Fresh(entry->second, clock_())) return Flood(from, frame);
  // Never reflect: a destination behind the source port already saw it.
  if (entry->second.port != from) SendTo(entry->second.port, frame);
}

bool Switch::Learn(PortId from, Port& port, const MacAddress& src) {
  TimePoint now = clock_();
  uint64_t key = src.ToU64();
  auto it = table_.find(key);
  if (it != table_.end()) {
    // Another port's MAC (a neighbour's, the gateway's): spoofing. A VM
    // that restarts behind a new port gets its MAC back once the old port
    // is removed.
    if (it->second.port != from) return false;
    it->second.last_seen = now;
    return true;
  }
  if (port.learned >= options_.max_macs_per_port && now >= next_sweep_) {
    ForgetIdleOfFullPorts(now);
  }
  if (port.learned >= options_.max_macs_per_port) return false;
  table_[key] = Entry{from, now, false};
  ++port.learned;
  return true;
}

bool Switch::Fresh(const Entry& entry, TimePoint now) const {
  return entry.pinned || now - entry.last_seen < options_.mac_aging;
}

// A port at its cap gives up the MACs it has not used for mac_aging; other
// ports keep theirs (ownership does not age).
void Switch::ForgetIdleOfFullPorts(TimePoint now) {
  std::vector<PortId> full;  // decided up front: forgetting makes a port un-full
  for (const auto& [id, port] : ports_) {
    if (port.learned >= options_.max_macs_per_port) full.push_back(id);
  }
  for (auto it = table_.begin(); it != table_.end();) {
    bool idle = !Fresh(it->second, now) &&
                std::find(full.begin(), full.end(), it->second.port) != full.end();
    if (!idle) {
      ++it;
      continue;
    }
    --ports_[it->second.port].learned;
    it = table_.erase(it);
  }
  // Sweeping is O(table); doing it at most every few seconds keeps Receive
  // O(1) amortised while a full port sprays new MACs.
  next_sweep_ = now + std::chrono::seconds(5);
}

void Switch::Forget(uint64_t key) {
  auto it = table_.find(key);
  if (it == table_.end()) return;
  auto port = ports_.find(it->second.port);
  if (port != ports_.end()) --port->second.learned;
  table_.erase(it);
}

void Switch::SendTo(PortId to, Bytes frame) {
  // Looked up afresh: an earlier delivery may have removed the port.
  auto it = ports_.find(to);
  if (it == ports_.end()) return;
  PortCounters& counters = it->second.counters;
  if (it->second.sink->Deliver(frame)) {
    ++counters.tx_frames;
    counters.tx_bytes += frame.size();
  } else {
    ++counters.tx_dropped;
  }
}

void Switch::Flood(PortId from, Bytes frame) {
  // Snapshot the ids: sinks may add or remove ports while we deliver.
  std::vector<PortId> targets;
  targets.reserve(ports_.size());
  for (const auto& [id, port] : ports_) {
    if (id != from) targets.push_back(id);
  }
  for (PortId id : targets) SendTo(id, frame);
}

std::optional<PortCounters> Switch::Counters(PortId port) const {
  auto it = ports_.find(port);
  if (it == ports_.end()) return std::nullopt;
  return it->second.counters;
}

std::optional<PortId> Switch::Lookup(const MacAddress& mac) const {
  auto it = table_.find(mac.ToU64());
  if (it == table_.end() || !Fresh(it->second, clock_())) return std::nullopt;
  return it->second.port;
}

std::optional<PortId> Switch::Owner(const MacAddress& mac) const {
  auto it = table_.find(mac.ToU64());
  if (it == table_.end()) return std::nullopt;
  return it->second.port;
}

size_t Switch::LearnedCount(PortId port) const {
  auto it = ports_.find(port);
  return it == ports_.end() ? 0 : it->second.learned;
}

std::vector<PortId> Switch::Ports() const {
  std::vector<PortId> ids;
  for (const auto& [id, port] : ports_) ids.push_back(id);
  return ids;
}

const std::string* Switch::PortName(PortId port) const {
  auto it = ports_.find(port);
  return it == ports_.end() ? nullptr : &it->second.name;
}

}  // namespace vk::net
