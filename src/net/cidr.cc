#include "net/cidr.h"

#include <fmt/format.h>

namespace vk::net {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Parses a decimal 0..max with no sign and no leading zero; on failure
// returns why, naming `what` ("octet", "prefix length").
Result<uint32_t> ParseStrictDecimal(std::string_view text, std::string_view what, uint32_t max) {
  if (text.empty()) return Error(fmt::format("empty {}", what));
  for (char c : text) {
    if (!IsDigit(c)) return Error(fmt::format("{} \"{}\" is not a decimal number", what, text));
  }
  if (text.size() > 1 && text[0] == '0') {
    return Error(fmt::format("{} \"{}\" has a leading zero", what, text));
  }
  if (text.size() > 3) return Error(fmt::format("{} \"{}\" is over {}", what, text, max));
  uint32_t value = 0;
  for (char c : text) value = value * 10 + static_cast<uint32_t>(c - '0');
  if (value > max) return Error(fmt::format("{} {} is over {}", what, value, max));
  return value;
}

// The reason text is parsed without the "bad IPv4 address" prefix so
// ParseCidr can reuse it under its own prefix.
Result<uint32_t> ParseIpv4Body(std::string_view text) {
  uint32_t ip = 0;
  for (int i = 0; i < 4; ++i) {
    size_t dot = text.find('.');
    bool last = i == 3;
    if (last != (dot == std::string_view::npos)) {
      return Error("want four dotted decimal octets");
    }
    std::string_view octet = last ? text : text.substr(0, dot);
    uint32_t value = VK_TRY(ParseStrictDecimal(octet, "octet", 255));
    ip = ip << 8 | value;
    if (!last) text.remove_prefix(dot + 1);
  }
  return ip;
}

Result<Cidr> ParseCidrBody(std::string_view text) {
  size_t slash = text.find('/');
  uint32_t ip = VK_TRY(ParseIpv4Body(text.substr(0, slash)));
  if (slash == std::string_view::npos) return Cidr::Host(ip);
  uint32_t prefix = VK_TRY(ParseStrictDecimal(text.substr(slash + 1), "prefix length", 32));
  Cidr cidr{ip, static_cast<uint8_t>(prefix)};
  if ((ip & cidr.Mask()) != ip) {
    Cidr network{ip & cidr.Mask(), cidr.prefix_len};
    return Error(fmt::format("host bits are set (did you mean {}/{} or {}?)",
                             FormatIpv4(network.base), prefix, FormatIpv4(ip)));
  }
  return cidr;
}

}  // namespace

std::string FormatIpv4(uint32_t ip) {
  return fmt::format("{}.{}.{}.{}", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

std::string Cidr::ToString() const {
  if (prefix_len == 32) return FormatIpv4(base);
  return fmt::format("{}/{}", FormatIpv4(base), prefix_len);
}

Result<uint32_t> ParseIpv4(std::string_view text) {
  return ParseIpv4Body(text).Context(fmt::format("bad IPv4 address \"{}\"", text));
}

Result<Cidr> ParseCidr(std::string_view text) {
  return ParseCidrBody(text).Context(fmt::format("bad CIDR \"{}\"", text));
}

}  // namespace vk::net
