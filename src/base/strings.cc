#include "base/strings.h"

#include <charconv>

namespace vk {

std::string ToHex(uint64_t value) {
  char buffer[17];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value, 16);
  return std::string(buffer, end);
}

std::vector<std::string> Split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t pos = text.find(separator, start);
    parts.emplace_back(text.substr(start, pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return parts;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::optional<uint64_t> ParseUint(std::string_view text, int base) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

Result<uint64_t> ParseSize(std::string_view text) {
  uint64_t multiplier = 1;
  std::string_view digits = text;
  if (!text.empty()) {
    switch (text.back()) {
      case 'k':
      case 'K': multiplier = 1ULL << 10; break;
      case 'm':
      case 'M': multiplier = 1ULL << 20; break;
      case 'g':
      case 'G': multiplier = 1ULL << 30; break;
      case 't':
      case 'T': multiplier = 1ULL << 40; break;
      default: break;
    }
    if (multiplier != 1) digits.remove_suffix(1);
  }
  auto value = ParseUint(digits);
  if (!value || *value > UINT64_MAX / multiplier) {
    return Error("invalid size '" + std::string(text) +
                 "': use a number with K, M, G or T, e.g. 512M");
  }
  return *value * multiplier;
}

std::string BytesToHex(const uint8_t* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    hex += kDigits[data[i] >> 4];
    hex += kDigits[data[i] & 0xf];
  }
  return hex;
}

}  // namespace vk
