// Small string helpers shared by host and agent code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk {

std::string ToHex(uint64_t value);
// Lower-case hex of every byte, two digits each.
std::string BytesToHex(const uint8_t* data, size_t size);
std::vector<std::string> Split(std::string_view text, char separator);
bool StartsWith(std::string_view text, std::string_view prefix);
// Parses "512M", "4G", "1024K", "65536" (bytes) into bytes.
Result<uint64_t> ParseSize(std::string_view text);
std::optional<uint64_t> ParseUint(std::string_view text, int base = 10);

}  // namespace vk
