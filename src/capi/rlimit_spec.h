// krun_set_rlimits entries: "ID=CUR:MAX" (or "ID:CUR:MAX"), the form
// libkrun's guest init parses (init/src/env.rs).
#pragma once

#include <cstdint>
#include <string_view>

#include "base/result.h"

namespace vk::capi {

// Linux's RLIMIT_* numbers are 0..15 (RLIM_NLIMITS = 16).
inline constexpr uint32_t kRlimitCount = 16;

struct Rlimit {
  uint32_t resource = 0;  // RLIMIT_* number
  uint64_t cur = 0;       // UINT64_MAX = RLIM_INFINITY
  uint64_t max = 0;
};

// ID is a decimal RLIMIT_* number below kRlimitCount, CUR and MAX decimal
// u64 (no sign, no spaces). CUR > MAX is an error too: setrlimit refuses it.
Result<Rlimit> ParseRlimit(std::string_view text);

}  // namespace vk::capi
