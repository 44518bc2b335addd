#include "agent/init_params.h"

#include "base/strings.h"
#include "proto/str_format.h"

namespace vk::agent {

using proto::StrFormat;
namespace {

constexpr size_t kMaxHostname = 64;  // HOST_NAME_MAX
// Bounds what a command line can make us mount, per kind of vk.* mount word.
constexpr size_t kMaxMounts = 64;

template <typename T, typename Parse>
Result<void> AddMount(std::vector<T>& mounts, std::string_view key, std::string_view value,
                      Parse parse) {
  if (mounts.size() >= kMaxMounts) return Error(StrFormat("too many {} mounts", key));
  mounts.push_back(VK_TRY(parse(value)));
  return Ok();
}

Result<void> Apply(InitParams& params, std::string_view key, std::string_view value) {
  if (key == "vk.root") {
    params.root = value;
  } else if (key == "vk.rootfstype") {
    if (value.empty()) return Error("vk.rootfstype is empty");
    params.root_fstype = value;
  } else if (key == "vk.rootflags") {
    params.root_options = value;
  } else if (key == "vk.ro") {
    if (value != "0" && value != "1") return Error(StrFormat("vk.ro={} is not 0 or 1", value));
    params.read_only = value == "1";
  } else if (key == "vk.port") {
    auto port = ParseUint(value);
    if (!port || *port == 0 || *port > 0xffffffffu)
      return Error(StrFormat("vk.port={} is not a port", value));
    params.port = static_cast<uint32_t>(*port);
  } else if (key == "vk.template") {
    auto port = ParseUint(value);
    if (!port || *port == 0 || *port > 0xffffffffu)
      return Error(StrFormat("vk.template={} is not a port", value));
    params.template_port = static_cast<uint32_t>(*port);
  } else if (key == "vk.idle") {
    params.idle = value == "1";
  } else if (key == "vk.pvm") {
    params.pvm = value == "1";
  } else if (key == "vk.serve") {
    auto port = ParseUint(value);
    // PORT+1 and PORT+2 are used too (power-off, TCP relay).
    if (!port || *port == 0 || *port > 0xfffffffdu)
      return Error(StrFormat("vk.serve={} is not a port", value));
    params.serve_port = static_cast<uint32_t>(*port);
  } else if (key == "vk.overlay") {
    if (value.empty()) return Error("vk.overlay is empty");
    params.overlay = value;
  } else if (key == "vk.fs") {
    VK_TRY(AddMount(params.fs_mounts, key, value, ParseFsMount));
  } else if (key == "vk.tmpfs") {
    VK_TRY(AddMount(params.tmpfs_mounts, key, value, ParseTmpfsMount));
  } else if (key == "vk.bind") {
    VK_TRY(AddMount(params.bind_mounts, key, value, ParseBindMount));
  } else if (key == "vk.net") {
    params.net = VK_TRY(ParseNetParam(value));
  } else if (key == "vk.etc") {
    params.write_etc = value == "1";
  } else if (key == "vk.hostname") {
    if (value.empty() || value.size() > kMaxHostname) {
      return Error(StrFormat("vk.hostname must be 1 to {} characters", kMaxHostname));
    }
    params.hostname = value;
  }
  return Ok();
}

}  // namespace

Result<InitParams> ParseInitParams(std::string_view cmdline) {
  InitParams params;
  size_t at = 0;
  while (at < cmdline.size()) {
    const size_t end = cmdline.find_first_of(" \t\n", at);
    const std::string_view word =
        cmdline.substr(at, end == std::string_view::npos ? end : end - at);
    at = end == std::string_view::npos ? cmdline.size() : end + 1;
    const size_t equals = word.find('=');
    if (!StartsWith(word, "vk.") || equals == std::string_view::npos) continue;
    VK_TRY(Apply(params, word.substr(0, equals), word.substr(equals + 1))
               .Context("kernel command line"));
  }
  return params;
}

}  // namespace vk::agent
