// Test helpers: fresh contexts and a look at what a context stored.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>

#include "capi/context_store.h"
#include "libkrun.h"

namespace vk::capi::testing {

// An id no test creates: ids count up from 0 and tests make a few thousand.
inline constexpr uint32_t kUnknownCtx = 999999;

// Runs check(const KrunConfig&) on context `id`, which must exist.
template <typename Check>
void Inspect(uint32_t id, Check&& check) {
  int32_t found = Contexts().With(id, [&](KrunConfig& config) {
    check(static_cast<const KrunConfig&>(config));
    return 0;
  });
  ASSERT_EQ(found, 0) << "context " << id << " is gone";
}

// A context for one test, freed (if still there) at the end; the library's
// log is off so that refusals do not flood the test output.
class Ctx {
 public:
  Ctx() : id_(static_cast<uint32_t>(krun_create_ctx())) { krun_set_log_level(KRUN_LOG_LEVEL_OFF); }
  ~Ctx() { (void)Contexts().Free(id_); }
  Ctx(const Ctx&) = delete;
  Ctx& operator=(const Ctx&) = delete;
  uint32_t id() const { return id_; }
  operator uint32_t() const { return id_; }  // NOLINT: reads like libkrun's ctx_id

 private:
  uint32_t id_;
};

}  // namespace vk::capi::testing
