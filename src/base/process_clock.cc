#include "base/process_clock.h"

namespace vk {
namespace {

// Initialized before main(), when the binary's static constructors run.
const std::chrono::steady_clock::time_point kProcessStart = std::chrono::steady_clock::now();

}  // namespace

std::chrono::steady_clock::time_point ProcessStart() { return kProcessStart; }

}  // namespace vk
