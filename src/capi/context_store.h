// The contexts krun_create_ctx hands out: id -> KrunConfig, shared by every
// thread of the calling program. Ids start at 0 and are never reused
// (libkrun's rule, lib.rs:568), so a stale id can never reach a newer
// context.
#pragma once

#include <cerrno>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "capi/krun_config.h"
#include "capi/refusal.h"

namespace vk::capi {

class ContextStore {
 public:
  // first_id lets a test start near the end of the id space.
  explicit ContextStore(uint32_t first_id = 0) : next_id_(first_id) {}

  // A context with libkrun's defaults; its id (>= 0), or -ENOSPC once every
  // id a non-negative int32_t can carry was handed out (libkrun panics).
  int32_t Create();
  // false for an unknown id.
  bool Free(uint32_t id);
  // Removes the context and hands its settings over (krun_start_enter).
  std::optional<KrunConfig> Take(uint32_t id);
  size_t size() const;

  // Runs edit(KrunConfig&) -> int32_t under the lock and returns its
  // result, or -ENOENT for an unknown id. Edits are short: no I/O that can
  // block.
  template <typename Edit>
  int32_t With(uint32_t id, Edit&& edit) {
    std::lock_guard lock(mutex_);
    auto it = contexts_.find(id);
    if (it == contexts_.end()) return -ENOENT;
    return edit(it->second);
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<uint32_t, KrunConfig> contexts_;
  uint32_t next_id_;
};

// The process's store, behind every krun_* function.
ContextStore& Contexts();

// Contexts().With(), logging an unknown id under the function's name.
template <typename Edit>
int32_t EditContext(std::string_view function, uint32_t id, Edit&& edit) {
  int32_t result = Contexts().With(id, std::forward<Edit>(edit));
  if (result == -ENOENT) return Refuse(function, ENOENT, "no such context");
  return result;
}

// The plain setters: stores `value` in one field of context `id`.
template <typename Field, typename Value>
int32_t StoreSetting(std::string_view function, uint32_t id, Field KrunConfig::*field,
                     Value&& value) {
  return EditContext(function, id, [&](KrunConfig& config) {
    config.*field = std::forward<Value>(value);
    return 0;
  });
}

}  // namespace vk::capi
