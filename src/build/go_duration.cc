#include "build/go_duration.h"

#include <array>
#include <cmath>
#include <string>
#include <utility>

namespace vk::build {
namespace {

Error Invalid(std::string_view text) {
  return Error(ErrorKind::kUsage,
               "invalid duration \"" + std::string(text) + "\"; write e.g. 30s, 1m30s or 500ms");
}

// Longest spellings first so "ms" is not read as "m".
constexpr std::array<std::pair<std::string_view, double>, 7> kUnits = {{
    {"ns", 1},
    {"us", 1e3},
    {"\xC2\xB5s", 1e3},  // µs
    {"ms", 1e6},
    {"s", 1e9},
    {"m", 60e9},
    {"h", 3600e9},
}};

}  // namespace

Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text) {
  std::string_view rest = text;
  bool negative = false;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
    negative = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (rest == "0") return std::chrono::nanoseconds(0);
  if (rest.empty()) return Invalid(text);
  double total = 0;
  while (!rest.empty()) {
    size_t digits = 0;
    while (digits < rest.size() &&
           ((rest[digits] >= '0' && rest[digits] <= '9') || rest[digits] == '.')) {
      ++digits;
    }
    std::string number(rest.substr(0, digits));
    if (number.empty() || number == "." || number.find('.') != number.rfind('.'))
      return Invalid(text);
    rest.remove_prefix(digits);
    double scale = 0;
    for (const auto& [unit, nanos] : kUnits) {
      if (rest.substr(0, unit.size()) == unit && (unit != "m" || rest.substr(0, 2) != "ms")) {
        scale = nanos;
        rest.remove_prefix(unit.size());
        break;
      }
    }
    if (scale == 0) return Invalid(text);
    total += std::strtod(number.c_str(), nullptr) * scale;
    // Go rejects what overflows int64 nanoseconds (about 292 years).
    if (total > 9.2e18) return Invalid(text);
  }
  auto nanos = static_cast<int64_t>(std::llround(total));
  return std::chrono::nanoseconds(negative ? -nanos : nanos);
}

}  // namespace vk::build
