// Reading what a C caller hands the krun_* functions: NUL-terminated
// strings and NULL-terminated string arrays, each with a bound, so a NULL or
// an absurd argument becomes EINVAL instead of a crash or an unbounded copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace vk::capi {

// libkrun reads at most this many array entries (MAX_ARGS, lib.rs:78).
inline constexpr size_t kMaxArrayEntries = 4096;
// One string: Linux's MAX_ARG_STRLEN, the most an execve argument can be.
inline constexpr size_t kMaxStringBytes = 128 * 1024;
// A whole array: bounds what one call can make us copy.
inline constexpr size_t kMaxArrayBytes = 2 * 1024 * 1024;
// A host path: PATH_MAX including the NUL.
inline constexpr size_t kMaxPathBytes = 4095;

// A string of at most max_bytes bytes; NULL or longer is EINVAL. strnlen
// keeps the read within max_bytes + 1 bytes.
Result<std::string> ReadString(const char* text, size_t max_bytes = kMaxStringBytes);

// A non-empty string of at most kMaxPathBytes.
Result<std::string> ReadPath(const char* path);

// The entries before the first NULL; NULL itself, more than
// kMaxArrayEntries entries or more than kMaxArrayBytes in all is EINVAL.
Result<std::vector<std::string>> ReadStringArray(const char* const* array);

// The calling process's environment (what a NULL envp means).
Result<std::vector<std::string>> ReadOwnEnvironment();

}  // namespace vk::capi
