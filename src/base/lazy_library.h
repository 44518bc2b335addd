// LazyLibrary: a shared library `vk` binds on first use instead of at start.
// cmake/lazy_library.cmake turns a list of function names into hidden
// trampolines and one LazyLibrary object; the first call through any of them
// dlopens the library and binds that function (VkLazyResolve). Commands that
// never call into curl, libarchive, ext2fs, slirp or libcrypto (`vk exec`,
// `ps`, `stop`, `--version`) so never map them or the dozens they need.
#pragma once

#include <atomic>
#include <cstdint>

#include "base/result.h"

namespace vk {

// Laid out as the generated assembly emits it (checked in lazy_library.cc).
struct LazyLibrary {
  const char* soname;        // what dlopen loads, e.g. "libcurl.so.4"
  const char* package;       // the Debian package that installs it, for the error
  const char* const* names;  // `count` function names, by trampoline index
  void** slots;              // `count` jump targets: its resolver entry, then the bound function
  uint32_t count;
  uint32_t reserved;
  std::atomic<void*> handle;  // the dlopen handle once loaded
};

// Loads the library now (once per process), so a command can fail up front
// with a clear error, e.g. "libcurl.so.4 is missing: apt install libcurl4",
// instead of aborting at its first call into the library.
Result<void> LoadLazyLibrary(LazyLibrary& library);

// The address of the data symbol `name` (a variable cannot be trampolined),
// loading the library first.
Result<void*> LazyLibrarySymbol(LazyLibrary& library, const char* name);

template <typename T>
Result<T*> LazyLibraryData(LazyLibrary& library, const char* name) {
  void* address = VK_TRY(LazyLibrarySymbol(library, name));
  return static_cast<T*>(address);
}

}  // namespace vk

// The resolver the trampolines call: binds function `index` of `library`
// and returns its address. A library or symbol that cannot be loaded is a
// broken host (vk's package depends on every one): prints the error and
// aborts.
extern "C" void* VkLazyResolve(vk::LazyLibrary* library, unsigned index);

// Declares the LazyLibrary object of vk_lazy_library(NAME ...).
#define VK_LAZY_LIBRARY(name) extern "C" __attribute__((visibility("hidden"))) vk::LazyLibrary name
