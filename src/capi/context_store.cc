#include "capi/context_store.h"

#include <cstdint>
#include <limits>

namespace vk::capi {

int32_t ContextStore::Create() {
  std::lock_guard lock(mutex_);
  // The id comes back as an int32_t, where negative values mean errors.
  if (next_id_ > static_cast<uint32_t>(std::numeric_limits<int32_t>::max())) return -ENOSPC;
  uint32_t id = next_id_++;
  contexts_.try_emplace(id);
  return static_cast<int32_t>(id);
}

bool ContextStore::Free(uint32_t id) {
  std::lock_guard lock(mutex_);
  return contexts_.erase(id) == 1;
}

std::optional<KrunConfig> ContextStore::Take(uint32_t id) {
  std::lock_guard lock(mutex_);
  auto node = contexts_.extract(id);
  if (node.empty()) return std::nullopt;
  return std::move(node.mapped());
}

size_t ContextStore::size() const {
  std::lock_guard lock(mutex_);
  return contexts_.size();
}

ContextStore& Contexts() {
  // Never destroyed: a client thread may still call in while the process
  // exits, and the contexts' fds close with the process anyway.
  static ContextStore* store = new ContextStore();
  return *store;
}

}  // namespace vk::capi
