// Test-only: a DhcpTransport on a fake clock that queues the replies to each
// message it sends. Subclasses say what answers a message; with nothing
// queued, Receive lets the whole timeout pass.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "agent/dhcp_client.h"

namespace vk::agent {

class QueuedDhcpTransport : public DhcpTransport {
 public:
  Result<void> Send(std::span<const uint8_t> payload) override {
    sent.emplace_back(payload.begin(), payload.end());
    send_times.push_back(now);
    for (auto& reply : Replies(sent.back())) inbox_.push_back(std::move(reply));
    return Ok();
  }
  Result<std::optional<std::vector<uint8_t>>> Receive(std::chrono::milliseconds timeout) override {
    if (inbox_.empty()) {
      now += timeout;
      return std::optional<std::vector<uint8_t>>();
    }
    auto reply = std::move(inbox_.front());
    inbox_.pop_front();
    return std::optional(std::move(reply));
  }

  std::vector<std::vector<uint8_t>> sent;
  std::vector<std::chrono::milliseconds> send_times;  // `now` at each send
  std::chrono::milliseconds now{0};

 protected:
  // What answers `payload`, in order; called once per successful send.
  virtual std::vector<std::vector<uint8_t>> Replies(const std::vector<uint8_t>& payload) = 0;

 private:
  std::deque<std::vector<uint8_t>> inbox_;
};

}  // namespace vk::agent
