#include "base/names.h"

#include <string>

namespace vk {
namespace {

constexpr size_t kMaxNameBytes = 63;  // a DNS label; keeps socket paths short
constexpr size_t kMaxHostnameBytes = 253;
constexpr size_t kMaxLabelBytes = 63;

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

const char* KindWord(NameKind kind) {
  switch (kind) {
    case NameKind::kVm: return "VM";
    case NameKind::kFleet: return "fleet";
    case NameKind::kJob: return "job";
  }
  return "";
}

bool ValidLabel(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabelBytes) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!IsAsciiAlnum(c) && c != '-') return false;
  }
  return true;
}

}  // namespace

Result<void> CheckName(std::string_view name, NameKind kind) {
  bool ok = !name.empty() && name.size() <= kMaxNameBytes && IsAsciiAlnum(name.front());
  for (char c : name) ok = ok && (IsAsciiAlnum(c) || c == '-' || c == '_' || c == '.');
  if (ok) return Ok();
  std::string shown(name.substr(0, 80));
  return Error(
      ErrorKind::kUsage,
      std::string("invalid ") + KindWord(kind) + " name '" + shown +
          "': use 1-63 letters, digits, '-', '_' and '.', starting with a letter or digit");
}

Result<void> CheckHostname(std::string_view hostname) {
  bool ok = !hostname.empty() && hostname.size() <= kMaxHostnameBytes;
  for (size_t start = 0; ok;) {
    size_t dot = hostname.find('.', start);
    std::string_view label =
        hostname.substr(start, dot == std::string_view::npos ? dot : dot - start);
    ok = ValidLabel(label);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (ok) return Ok();
  std::string shown(hostname.substr(0, 80));
  return Error(ErrorKind::kUsage,
               "invalid hostname '" + shown +
                   "': use dot-separated labels of letters, digits and '-' (RFC 1123)");
}

}  // namespace vk
