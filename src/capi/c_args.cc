#include "capi/c_args.h"

#include <cstring>

extern char** environ;

namespace vk::capi {

Result<std::string> ReadString(const char* text, size_t max_bytes) {
  if (text == nullptr) return Error("a required string is NULL", EINVAL);
  size_t length = strnlen(text, max_bytes + 1);
  if (length > max_bytes) {
    return Error("a string is longer than " + std::to_string(max_bytes) + " bytes", EINVAL);
  }
  return std::string(text, length);
}

Result<std::string> ReadPath(const char* path) {
  std::string text = VK_TRY(ReadString(path, kMaxPathBytes));
  if (text.empty()) return Error("a path is empty", EINVAL);
  return text;
}

Result<std::vector<std::string>> ReadStringArray(const char* const* array) {
  if (array == nullptr) return Error("a required string array is NULL", EINVAL);
  std::vector<std::string> entries;
  size_t total = 0;
  for (size_t i = 0; array[i] != nullptr; ++i) {
    if (i == kMaxArrayEntries) {
      return Error("an array has more than " + std::to_string(kMaxArrayEntries) + " entries",
                   EINVAL);
    }
    std::string entry = VK_TRY(ReadString(array[i]));
    total += entry.size() + 1;
    if (total > kMaxArrayBytes) {
      return Error("an array holds more than " + std::to_string(kMaxArrayBytes) + " bytes", EINVAL);
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

Result<std::vector<std::string>> ReadOwnEnvironment() {
  if (environ == nullptr) return std::vector<std::string>();
  return ReadStringArray(environ);
}

}  // namespace vk::capi
