// Test helpers: build Ethernet/IPv4/TCP|UDP frames and check their
// checksums with a checksum routine written independently of offload.cc
// (validation by "the one's-complement sum over the covered bytes, checksum
// included, is 0xffff", RFC 1071 §1).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace vk::virtio::vnet::testing {

inline constexpr size_t kIp = 14, kL4 = 34;  // offsets without VLAN and IP options
inline constexpr uint8_t kTcp = 6, kUdp = 17;

inline void Put16(std::vector<uint8_t>& b, size_t at, uint16_t v) {
  b[at] = static_cast<uint8_t>(v >> 8);
  b[at + 1] = static_cast<uint8_t>(v);
}
inline uint16_t Get16(const std::vector<uint8_t>& b, size_t at) {
  return static_cast<uint16_t>(b[at] << 8 | b[at + 1]);
}
inline uint32_t Get32(const std::vector<uint8_t>& b, size_t at) {
  return uint32_t{Get16(b, at)} << 16 | Get16(b, at + 2);
}

// Independent one's-complement sum: 32-bit accumulator folded at each step.
inline uint16_t OnesSum(const uint8_t* p, size_t n, uint16_t start = 0) {
  uint32_t sum = start;
  for (size_t i = 0; i < n; ++i) {
    sum += (i % 2 == 0) ? uint32_t{p[i]} << 8 : p[i];
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(sum);
}

inline uint16_t PseudoSum(const std::vector<uint8_t>& f, size_t ip, uint8_t proto, size_t l4_len) {
  uint8_t pseudo[12] = {};
  std::memcpy(pseudo, &f[ip + 12], 8);
  pseudo[9] = proto;
  pseudo[10] = static_cast<uint8_t>(l4_len >> 8);
  pseudo[11] = static_cast<uint8_t>(l4_len);
  return OnesSum(pseudo, sizeof(pseudo));
}

inline bool IpChecksumValid(const std::vector<uint8_t>& f, size_t ip = kIp) {
  return OnesSum(&f[ip], (f[ip] & 0xf) * 4u) == 0xffff;
}
inline bool L4ChecksumValid(const std::vector<uint8_t>& f, size_t ip = kIp) {
  size_t l4 = ip + (f[ip] & 0xf) * 4u;
  size_t len = f.size() - l4;
  return OnesSum(&f[l4], len, PseudoSum(f, ip, f[ip + 9], len)) == 0xffff;
}

// Ethernet + IPv4 (no options) + TCP (20 bytes) or UDP + payload; checksum
// fields hold the pseudo-header sum, as a driver leaves them for NEEDS_CSUM.
inline std::vector<uint8_t> Ipv4Frame(uint8_t proto, size_t payload, uint8_t tcp_flags = 0x18) {
  size_t l4_header = proto == kTcp ? 20 : 8;
  std::vector<uint8_t> f(kL4 + l4_header + payload);
  for (size_t i = 0; i < 12; ++i) f[i] = static_cast<uint8_t>(0x10 + i);  // dst, src MAC
  Put16(f, 12, 0x0800);
  f[kIp] = 0x45;
  Put16(f, kIp + 2, static_cast<uint16_t>(f.size() - kIp));
  Put16(f, kIp + 4, 0x1000);  // id
  Put16(f, kIp + 6, 0x4000);  // DF
  f[kIp + 8] = 64, f[kIp + 9] = proto;
  uint8_t addresses[8] = {192, 168, 127, 2, 192, 168, 127, 1};
  std::memcpy(&f[kIp + 12], addresses, 8);
  Put16(f, kIp + 10, static_cast<uint16_t>(~OnesSum(&f[kIp], 20)));
  Put16(f, kL4, 40000), Put16(f, kL4 + 2, 80);
  if (proto == kTcp) {
    f[kL4 + 4] = 0x11, f[kL4 + 5] = 0x22, f[kL4 + 6] = 0x33, f[kL4 + 7] = 0x44;  // seq
    f[kL4 + 12] = 0x50, f[kL4 + 13] = tcp_flags;
    Put16(f, kL4 + 14, 65535);
  } else {
    Put16(f, kL4 + 4, static_cast<uint16_t>(8 + payload));
  }
  for (size_t i = 0; i < payload; ++i) f[kL4 + l4_header + i] = static_cast<uint8_t>(i * 7 + 3);
  size_t check = kL4 + (proto == kTcp ? 16 : 6);
  Put16(f, check, PseudoSum(f, kIp, proto, f.size() - kL4));
  return f;
}

}  // namespace vk::virtio::vnet::testing
