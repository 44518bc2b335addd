#include "base/lazy_library.h"

#include <dlfcn.h>
#include <fmt/format.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace vk {
namespace {

// The generated assembly (cmake/lazy_library.cmake) emits this layout.
static_assert(offsetof(LazyLibrary, soname) == 0);
static_assert(offsetof(LazyLibrary, package) == 8);
static_assert(offsetof(LazyLibrary, names) == 16);
static_assert(offsetof(LazyLibrary, slots) == 24);
static_assert(offsetof(LazyLibrary, count) == 32);
static_assert(offsetof(LazyLibrary, handle) == 40);
static_assert(sizeof(std::atomic<void*>) == 8 && std::atomic<void*>::is_always_lock_free);
static_assert(sizeof(LazyLibrary) == 48);

// Serializes the first loads; dlopen itself is thread-safe, this only keeps
// two threads from each taking a reference for one library.
std::mutex load_mutex;

Error Missing(const LazyLibrary& library, const char* what) {
  return Error(fmt::format("{} is missing: apt install {} ({})", library.soname, library.package,
                           what != nullptr ? what : "unknown dlopen error"));
}

[[noreturn]] void Die(const Error& error) {
  std::fprintf(stderr, "vk: %s\n", error.message().c_str());
  std::abort();
}

}  // namespace

Result<void> LoadLazyLibrary(LazyLibrary& library) {
  if (library.handle.load(std::memory_order_acquire) != nullptr) return Ok();
  std::lock_guard lock(load_mutex);
  if (library.handle.load(std::memory_order_relaxed) != nullptr) return Ok();
  // RTLD_LOCAL: its symbols never bind other libraries' references; RTLD_NOW:
  // a library that cannot be fully bound fails here, not at some later call.
  void* handle = ::dlopen(library.soname, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return Missing(library, ::dlerror());
  library.handle.store(handle, std::memory_order_release);
  return Ok();
}

Result<void*> LazyLibrarySymbol(LazyLibrary& library, const char* name) {
  VK_TRY(LoadLazyLibrary(library));
  ::dlerror();
  void* address = ::dlsym(library.handle.load(std::memory_order_acquire), name);
  if (address == nullptr) {
    return Error(
        fmt::format("{} has no symbol {}: reinstall {}", library.soname, name, library.package));
  }
  return address;
}

}  // namespace vk

extern "C" void* VkLazyResolve(vk::LazyLibrary* library, unsigned index) {
  if (index >= library->count) {
    vk::Die(vk::Error(fmt::format("{}: bad lazy symbol index {}", library->soname, index)));
  }
  auto address = vk::LazyLibrarySymbol(*library, library->names[index]);
  if (!address.ok()) vk::Die(address.error());
  // Another thread may bind the same slot at once; both store the same value.
  std::atomic_ref<void*>(library->slots[index]).store(*address, std::memory_order_release);
  return *address;
}
