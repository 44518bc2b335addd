#include "proto/control_line.h"

#include "base/strings.h"

namespace vk::proto {
namespace {

constexpr std::string_view kPowerOff = "poweroff";
constexpr std::string_view kResetTcp = "reset-tcp";
constexpr std::string_view kClockPrefix = "clock ";
constexpr std::string_view kEntropyPrefix = "entropy ";

// Decimal digits only (no sign, no spaces), at most what a u64 holds.
Result<uint64_t> ParseDecimal(std::string_view digits) {
  if (digits.empty() || digits.size() > 20) return Error("bad clock value");
  uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return Error("bad clock value");
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return Error("clock value out of range");
    value = value * 10 + digit;
  }
  return value;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // lowercase only, as FormatControlRequest writes
}

Result<std::vector<uint8_t>> ParseEntropy(std::string_view hex) {
  if (hex.size() % 2 != 0 || hex.size() < 2 * kMinControlEntropy ||
      hex.size() > 2 * kMaxControlEntropy) {
    return Error("entropy must be 32 to 64 bytes in hex");
  }
  std::vector<uint8_t> bytes;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int high = HexValue(hex[i]), low = HexValue(hex[i + 1]);
    if (high < 0 || low < 0) return Error("bad entropy hex");
    bytes.push_back(static_cast<uint8_t>(high << 4 | low));
  }
  return bytes;
}

}  // namespace

Result<ControlRequest> ParseControlRequest(std::string_view line) {
  ControlRequest request;
  if (line == kPowerOff) return request;
  if (line == kResetTcp) {
    request.kind = ControlRequest::Kind::kResetTcp;
    return request;
  }
  if (line.starts_with(kClockPrefix)) {
    request.kind = ControlRequest::Kind::kClock;
    request.clock_ns = VK_TRY(ParseDecimal(line.substr(kClockPrefix.size())));
    return request;
  }
  if (line.starts_with(kEntropyPrefix)) {
    request.kind = ControlRequest::Kind::kEntropy;
    request.entropy = VK_TRY(ParseEntropy(line.substr(kEntropyPrefix.size())));
    return request;
  }
  return Error("unknown control request");
}

std::string FormatControlRequest(const ControlRequest& request) {
  switch (request.kind) {
    case ControlRequest::Kind::kPowerOff: return std::string(kPowerOff) + "\n";
    case ControlRequest::Kind::kResetTcp: return std::string(kResetTcp) + "\n";
    case ControlRequest::Kind::kClock:
      return std::string(kClockPrefix) + std::to_string(request.clock_ns) + "\n";
    case ControlRequest::Kind::kEntropy:
      return std::string(kEntropyPrefix) +
             BytesToHex(request.entropy.data(), request.entropy.size()) + "\n";
  }
  return "\n";
}

}  // namespace vk::proto
