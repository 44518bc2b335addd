#include "fleet/port_mapping.h"

#include <arpa/inet.h>

#include "base/strings.h"

namespace vk::fleet {
namespace {

struct Range {
  uint16_t first = 0, last = 0;
};

Result<uint16_t> Port(std::string_view text, std::string_view what) {
  auto value = ParseUint(text);
  if (!value || *value < 1 || *value > 65535) {
    return Error(ErrorKind::kUsage, "invalid " + std::string(what) + " port \"" +
                                        std::string(text) + "\": ports are 1-65535");
  }
  return static_cast<uint16_t>(*value);
}

Result<Range> PortRange(std::string_view text, std::string_view what) {
  size_t dash = text.find('-');
  Range range;
  range.first = VK_TRY(Port(text.substr(0, dash), what));
  range.last = range.first;
  if (dash != std::string_view::npos) range.last = VK_TRY(Port(text.substr(dash + 1), what));
  if (range.last < range.first) {
    return Error(ErrorKind::kUsage,
                 "invalid " + std::string(what) + " port range \"" + std::string(text) + "\"");
  }
  return range;
}

Result<void> CheckHostIp(std::string_view ip) {
  if (ip.empty()) return Ok();
  std::string text(ip);
  unsigned char buffer[16];
  if (::inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
      ::inet_pton(AF_INET6, text.c_str(), buffer) == 1)
    return Ok();
  return Error(ErrorKind::kUsage, "invalid host IP \"" + text + "\"");
}

}  // namespace

Result<PortMapping> MakePortMapping(std::string_view target, std::string_view published,
                                    std::string_view host_ip, std::string_view protocol) {
  PortMapping port;
  Range t = VK_TRY(PortRange(target, "target"));
  port.target_first = t.first;
  port.target_last = t.last;
  if (!published.empty()) {
    Range p = VK_TRY(PortRange(published, "published"));
    if (p.last - p.first != t.last - t.first) {
      return Error(ErrorKind::kUsage, "published ports " + std::string(published) +
                                          " and target ports " + std::string(target) +
                                          " are ranges of different lengths");
    }
    port.published_first = p.first;
    port.published_last = p.last;
  }
  VK_TRY(CheckHostIp(host_ip));
  port.host_ip = host_ip;
  if (!protocol.empty()) port.protocol = protocol;
  if (port.protocol != "tcp" && port.protocol != "udp") {
    return Error(ErrorKind::kUsage,
                 "invalid protocol \"" + port.protocol + "\": the fleet LAN forwards tcp and udp");
  }
  return port;
}

Result<PortMapping> ParsePortMapping(std::string_view text) {
  std::string_view rest = text, protocol, host_ip, published;
  if (size_t slash = rest.rfind('/'); slash != std::string_view::npos) {
    protocol = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  if (!rest.empty() && rest[0] == '[') {  // [v6]:published:target
    size_t close = rest.find("]:");
    if (close == std::string_view::npos)
      return Error(ErrorKind::kUsage, "invalid port \"" + std::string(text) + "\"");
    host_ip = rest.substr(1, close - 1);
    rest = rest.substr(close + 2);
    if (rest.find(':') == std::string_view::npos)
      return Error(ErrorKind::kUsage, "invalid port \"" + std::string(text) + "\"");
  }
  std::string_view target = rest;
  if (size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    target = rest.substr(colon + 1);
    published = rest.substr(0, colon);
    if (size_t ip_end = published.rfind(':'); ip_end != std::string_view::npos) {
      if (!host_ip.empty())
        return Error(ErrorKind::kUsage, "invalid port \"" + std::string(text) + "\"");
      host_ip = published.substr(0, ip_end);
      published = published.substr(ip_end + 1);
    }
  }
  auto port = MakePortMapping(target, published, host_ip, protocol);
  if (!port.ok()) return std::move(port).error().WithContext("port \"" + std::string(text) + "\"");
  return port;
}

std::string PortMappingText(const PortMapping& port) {
  auto range = [](uint16_t first, uint16_t last) {
    return first == last ? std::to_string(first)
                         : std::to_string(first) + "-" + std::to_string(last);
  };
  std::string text;
  if (!port.host_ip.empty()) {
    bool v6 = port.host_ip.find(':') != std::string::npos;
    text += (v6 ? "[" + port.host_ip + "]" : port.host_ip) + ":";
  }
  if (port.published_first != 0)
    text += range(port.published_first, port.published_last) + ":";
  else if (!port.host_ip.empty())
    text += ":";
  return text + range(port.target_first, port.target_last) + "/" + port.protocol;
}

}  // namespace vk::fleet
