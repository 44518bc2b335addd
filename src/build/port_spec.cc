#include "build/port_spec.h"

#include "base/strings.h"

namespace vk::build {
namespace {

Error Invalid(std::string_view text, std::string_view why) {
  return Error(ErrorKind::kUsage, "invalid port \"" + std::string(text) +
                                      "\": " + std::string(why) +
                                      "; write PORT[-PORT][/tcp|/udp|/sctp], e.g. 8080/tcp");
}

std::optional<uint16_t> Port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  std::optional<uint64_t> value = ParseUint(text);
  if (!value || *value > 65535) return std::nullopt;
  return static_cast<uint16_t>(*value);
}

}  // namespace

Result<PortSpec> ParsePortSpec(std::string_view text) {
  PortSpec spec;
  std::string_view ports = text;
  size_t slash = text.find('/');
  if (slash != std::string_view::npos) {
    ports = text.substr(0, slash);
    std::string protocol(text.substr(slash + 1));
    for (char& c : protocol) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    if (protocol != "tcp" && protocol != "udp" && protocol != "sctp") {
      return Invalid(text, "unknown protocol");
    }
    spec.protocol = protocol;
  }
  size_t dash = ports.find('-');
  std::optional<uint16_t> first = Port(ports.substr(0, dash));
  std::optional<uint16_t> last =
      dash == std::string_view::npos ? first : Port(ports.substr(dash + 1));
  if (!first || !last) return Invalid(text, "not a port number");
  if (*last < *first) return Invalid(text, "the range ends before it starts");
  spec.first = *first;
  spec.last = *last;
  return spec;
}

}  // namespace vk::build
