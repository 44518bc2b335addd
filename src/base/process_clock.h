// When this process started running our code (static initialization), for
// start-up latency figures.
#pragma once

#include <chrono>

namespace vk {

std::chrono::steady_clock::time_point ProcessStart();

}  // namespace vk
