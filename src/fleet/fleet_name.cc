#include "fleet/fleet_name.h"

#include "base/names.h"

namespace vk::fleet {
namespace {

bool Allowed(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

}  // namespace

std::string NormalizeFleetName(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (Allowed(c) && !(out.empty() && (c == '_' || c == '-'))) out += c;
  }
  return out;
}

Result<void> CheckFleetName(std::string_view name) {
  bool valid = !name.empty() && name[0] != '_' && name[0] != '-';
  for (char c : name) valid = valid && Allowed(c);
  if (!valid) {
    return Error(ErrorKind::kUsage,
                 "invalid fleet name \"" + std::string(name) +
                     "\": use lower-case letters, digits, '_' and '-', starting with a letter "
                     "or digit");
  }
  return CheckName(name, NameKind::kFleet);
}

}  // namespace vk::fleet
