#include "base/thread_role.h"

#include <atomic>

namespace vk {
namespace {

std::atomic<ThreadSandbox> g_sandbox{nullptr};

}  // namespace

void SetThreadSandbox(ThreadSandbox sandbox) { g_sandbox.store(sandbox); }

void EnterThreadRole(ThreadRole role) {
  if (ThreadSandbox sandbox = g_sandbox.load()) sandbox(role);
}

}  // namespace vk
