// The clock the network code reads (MAC aging, DNS cache TTLs, DHCP leases).
// Injectable so tests advance time without sleeping.
#pragma once

#include <chrono>
#include <functional>

namespace vk::net {

using TimePoint = std::chrono::steady_clock::time_point;
using Clock = std::function<TimePoint()>;

inline Clock SteadyClock() {
  return [] { return std::chrono::steady_clock::now(); };
}

}  // namespace vk::net
