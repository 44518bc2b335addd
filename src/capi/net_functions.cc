// Network: krun_add_net_unixstream/unixgram/tap, the legacy passt/gvproxy
// interface and its MAC, krun_set_port_map.
#include <fmt/format.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>

#include "capi/c_args.h"
#include "capi/context_store.h"
#include "capi/port_map_spec.h"
#include "libkrun.h"

using vk::capi::EditContext;
using vk::capi::KrunConfig;
using vk::capi::NetConfig;
using vk::capi::NetKind;
using vk::capi::Refuse;

namespace {

constexpr uint32_t kAllFeatures =
    NET_FEATURE_CSUM | NET_FEATURE_GUEST_CSUM | NET_FEATURE_GUEST_TSO4 | NET_FEATURE_GUEST_TSO6 |
    NET_FEATURE_GUEST_UFO | NET_FEATURE_HOST_TSO4 | NET_FEATURE_HOST_TSO6 | NET_FEATURE_HOST_UFO;
constexpr uint32_t kGuestOffloads =
    NET_FEATURE_GUEST_TSO4 | NET_FEATURE_GUEST_TSO6 | NET_FEATURE_GUEST_UFO;
// One virtio-net device per interface; bounds a loop of calls.
constexpr size_t kMaxNets = 16;
// sockaddr_un's sun_path holds 107 bytes and the NUL.
constexpr size_t kMaxSocketPathBytes = 107;

std::array<uint8_t, 6> ReadMac(const uint8_t* c_mac) {
  std::array<uint8_t, 6> mac{};
  std::memcpy(mac.data(), c_mac, mac.size());
  return mac;
}

// Everything but the context: path xor fd, MAC, feature and flag bits.
vk::Result<NetConfig> ReadSocketNet(NetKind kind, const char* c_path, int fd, const uint8_t* c_mac,
                                    uint32_t features, uint32_t flags, uint32_t allowed_flags) {
  if ((c_path != nullptr) == (fd >= 0)) {
    return vk::Error("give exactly one of c_path and fd", EINVAL);
  }
  if (c_mac == nullptr) return vk::Error("c_mac is NULL", EINVAL);
  if ((features & ~kAllFeatures) != 0) {
    return vk::Error(fmt::format("unknown feature bits {:#x}", features & ~kAllFeatures), EINVAL);
  }
  if ((flags & ~allowed_flags) != 0) {
    return vk::Error(fmt::format("flags {:#x} not allowed here", flags & ~allowed_flags), EINVAL);
  }
  NetConfig net{.kind = kind, .mac = ReadMac(c_mac), .features = features, .flags = flags};
  if (c_path != nullptr) net.path = VK_TRY(vk::capi::ReadString(c_path, kMaxSocketPathBytes));
  if (c_path != nullptr && net.path.empty()) return vk::Error("c_path is empty", EINVAL);
  return net;
}

vk::Result<NetConfig> ReadTapNet(const char* c_tap_name, const uint8_t* c_mac, uint32_t features,
                                 uint32_t flags) {
  std::string name = VK_TRY(vk::capi::ReadString(c_tap_name, IFNAMSIZ - 1));
  if (name.empty()) return vk::Error("the tap name is empty", EINVAL);
  if (c_mac == nullptr) return vk::Error("c_mac is NULL", EINVAL);
  if ((features & ~kAllFeatures) != 0) return vk::Error("unknown feature bits", EINVAL);
  // The guest may only be handed offloaded packets it can checksum (lib.rs:1145).
  if ((features & kGuestOffloads) != 0 && (features & NET_FEATURE_GUEST_CSUM) == 0) {
    return vk::Error("GUEST_TSO4/TSO6/UFO need NET_FEATURE_GUEST_CSUM", EINVAL);
  }
  if ((flags & ~NET_FLAG_DHCP_CLIENT) != 0) return vk::Error("flags not allowed here", EINVAL);
  return NetConfig{.kind = NetKind::kTap,
                   .path = std::move(name),
                   .mac = ReadMac(c_mac),
                   .features = features,
                   .flags = flags};
}

// Stores `net`. Only a stored interface owns `fd` (>= 0): a refused call
// leaves the caller's descriptor open.
int32_t AddNet(const char* function, uint32_t ctx_id, vk::Result<NetConfig> net, int fd = -1) {
  if (!net) return Refuse(function, net.error());
  return EditContext(function, ctx_id, [&](KrunConfig& config) {
    if (config.nets.size() >= kMaxNets) {
      return Refuse(function, ENOSPC, fmt::format("more than {} interfaces", kMaxNets));
    }
    if (fd >= 0) net->fd.Reset(fd);
    config.nets.push_back(std::move(*net));
    return 0;
  });
}

// The legacy interface replaces an earlier one; ownership of `fd` as above.
int32_t SetLegacyNet(const char* function, uint32_t ctx_id, vk::capi::LegacyNet legacy,
                     int fd = -1) {
  return EditContext(function, ctx_id, [&](KrunConfig& config) {
    if (!config.nets.empty()) {
      return Refuse(function, EINVAL, "krun_add_net_*() was called: no legacy interface");
    }
    if (fd >= 0) legacy.fd.Reset(fd);
    config.legacy_net = std::move(legacy);
    return 0;
  });
}

}  // namespace

extern "C" int32_t krun_add_net_unixstream(uint32_t ctx_id, const char* c_path, int fd,
                                           uint8_t* const c_mac, uint32_t features,
                                           uint32_t flags) {
  auto net =
      ReadSocketNet(NetKind::kUnixStream, c_path, fd, c_mac, features, flags, NET_FLAG_DHCP_CLIENT);
  return AddNet("krun_add_net_unixstream", ctx_id, std::move(net), fd);
}

extern "C" int32_t krun_add_net_unixgram(uint32_t ctx_id, const char* c_path, int fd,
                                         uint8_t* const c_mac, uint32_t features, uint32_t flags) {
  auto net = ReadSocketNet(NetKind::kUnixGram, c_path, fd, c_mac, features, flags,
                           NET_FLAG_VFKIT | NET_FLAG_DHCP_CLIENT);
  return AddNet("krun_add_net_unixgram", ctx_id, std::move(net), fd);
}

extern "C" int32_t krun_add_net_tap(uint32_t ctx_id, char* c_tap_name, uint8_t* const c_mac,
                                    uint32_t features, uint32_t flags) {
  return AddNet("krun_add_net_tap", ctx_id, ReadTapNet(c_tap_name, c_mac, features, flags));
}

extern "C" int32_t krun_set_passt_fd(uint32_t ctx_id, int fd) {
  if (fd < 0) return Refuse("krun_set_passt_fd", EINVAL, "fd < 0");
  vk::capi::LegacyNet legacy{.kind = NetKind::kUnixStream};
  return SetLegacyNet("krun_set_passt_fd", ctx_id, std::move(legacy), fd);
}

extern "C" int32_t krun_set_gvproxy_path(uint32_t ctx_id, char* c_path) {
  auto path = vk::capi::ReadString(c_path, kMaxSocketPathBytes);
  if (!path) return Refuse("krun_set_gvproxy_path", path.error());
  if (path->empty()) return Refuse("krun_set_gvproxy_path", EINVAL, "c_path is empty");
  vk::capi::LegacyNet legacy{.kind = NetKind::kUnixGram, .path = std::move(*path)};
  return SetLegacyNet("krun_set_gvproxy_path", ctx_id, std::move(legacy));
}

extern "C" int32_t krun_set_net_mac(uint32_t ctx_id, uint8_t* const c_mac) {
  if (c_mac == nullptr) return Refuse("krun_set_net_mac", EINVAL, "c_mac is NULL");
  return EditContext("krun_set_net_mac", ctx_id, [&](KrunConfig& config) {
    config.legacy_mac = ReadMac(c_mac);
    return 0;
  });
}

extern "C" int32_t krun_set_port_map(uint32_t ctx_id, const char* const port_map[]) {
  constexpr const char* kFunction = "krun_set_port_map";
  // Parsed before the context is looked up, as libkrun does (lib.rs:1286).
  std::vector<vk::capi::PortMapping> map;
  if (port_map != nullptr) {  // NULL clears
    auto entries = vk::capi::ReadStringArray(port_map);
    if (!entries) return Refuse(kFunction, entries.error());
    auto parsed = vk::capi::ParsePortMap(*entries);
    if (!parsed) return Refuse(kFunction, parsed.error());
    map = std::move(*parsed);
  }
  return EditContext(kFunction, ctx_id, [&](KrunConfig& config) {
    if (!config.nets.empty()) {
      return Refuse(kFunction, EINVAL, "ports are published only without krun_add_net_*()");
    }
    if (!config.HasVsock()) return Refuse(kFunction, ENODEV, "the vsock device is disabled");
    config.port_map = std::move(map);
    return 0;
  });
}
