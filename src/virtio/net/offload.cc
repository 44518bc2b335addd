#include "virtio/net/offload.h"

#include <algorithm>
#include <cstring>

namespace vk::virtio::vnet {
namespace {

constexpr size_t kEthHeader = 14, kVlanTag = 4;
constexpr uint16_t kEtherTypeIpv4 = 0x0800, kEtherTypeVlan = 0x8100;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kTcpFin = 0x01, kTcpPsh = 0x08, kTcpCwr = 0x80;
// Offsets inside the IPv4 (RFC 791) and TCP (RFC 9293) headers.
constexpr size_t kIpTotalLength = 2, kIpId = 4, kIpFragment = 6, kIpProtocol = 9, kIpChecksum = 10,
                 kIpSource = 12;
constexpr size_t kTcpSeq = 4, kTcpDataOffset = 12, kTcpFlags = 13, kTcpChecksum = 16;

uint16_t Load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t Load32(const uint8_t* p) { return uint32_t{Load16(p)} << 16 | Load16(p + 2); }
void Store16(uint8_t* p, uint16_t v) { p[0] = v >> 8, p[1] = v & 0xff; }
void Store32(uint8_t* p, uint32_t v) { Store16(p, v >> 16), Store16(p + 2, v & 0xffff); }

// Where the headers of a TCPv4 frame start and end.
struct TcpV4Layout {
  size_t ip = 0;       // IPv4 header offset
  size_t tcp = 0;      // TCP header offset
  size_t payload = 0;  // first payload byte
};

bool ParseTcpV4(std::span<const uint8_t> frame, TcpV4Layout& layout) {
  if (frame.size() < kEthHeader) return false;
  size_t ip = kEthHeader;
  uint16_t ether_type = Load16(&frame[12]);
  if (ether_type == kEtherTypeVlan) {
    if (frame.size() < kEthHeader + kVlanTag) return false;
    ether_type = Load16(&frame[16]);
    ip += kVlanTag;
  }
  if (ether_type != kEtherTypeIpv4 || frame.size() < ip + 20) return false;
  size_t ip_len = size_t{frame[ip] & 0x0fu} * 4;
  if ((frame[ip] >> 4) != 4 || ip_len < 20 || frame[ip + kIpProtocol] != kProtoTcp) return false;
  // A fragment cannot be segmented (MF set or a non-zero offset).
  if ((Load16(&frame[ip + kIpFragment]) & 0x3fff) != 0) return false;
  size_t tcp = ip + ip_len;
  if (frame.size() < tcp + 20) return false;
  size_t tcp_len = static_cast<size_t>(frame[tcp + kTcpDataOffset] >> 4) * 4;
  if (tcp_len < 20 || frame.size() < tcp + tcp_len) return false;
  layout = {ip, tcp, tcp + tcp_len};
  return true;
}

void FixIpHeader(std::span<uint8_t> segment, const TcpV4Layout& l, uint16_t id) {
  uint8_t* ip = &segment[l.ip];
  Store16(ip + kIpTotalLength, static_cast<uint16_t>(segment.size() - l.ip));
  Store16(ip + kIpId, id);
  Store16(ip + kIpChecksum, 0);
  Store16(ip + kIpChecksum, ChecksumFinish(ChecksumAdd({ip, l.tcp - l.ip})));
}

void FixTcpHeader(std::span<uint8_t> segment, const TcpV4Layout& l, uint32_t seq, uint8_t flags) {
  uint8_t* tcp = &segment[l.tcp];
  Store32(tcp + kTcpSeq, seq);
  tcp[kTcpFlags] = flags;
  Store16(tcp + kTcpChecksum, 0);
  size_t tcp_len = segment.size() - l.tcp;
  // Pseudo-header (RFC 9293 §3.1): source, destination, zero, protocol, length.
  uint8_t pseudo[12];
  std::memcpy(pseudo, &segment[l.ip + kIpSource], 8);
  pseudo[8] = 0, pseudo[9] = kProtoTcp;
  Store16(pseudo + 10, static_cast<uint16_t>(tcp_len));
  uint64_t sum = ChecksumAdd(pseudo);
  sum = ChecksumAdd({tcp, tcp_len}, sum);
  Store16(tcp + kTcpChecksum, ChecksumFinish(sum));
}

}  // namespace

uint64_t ChecksumAdd(std::span<const uint8_t> bytes, uint64_t sum) {
  size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) sum += Load16(&bytes[i]);
  if (i < bytes.size()) sum += uint64_t{bytes[i]} << 8;
  return sum;
}

uint16_t ChecksumFinish(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

bool CompleteChecksum(std::span<uint8_t> frame, size_t csum_start, size_t csum_offset) {
  if (csum_start > frame.size() || csum_offset > frame.size() - csum_start ||
      frame.size() - csum_start - csum_offset < 2) {
    return false;
  }
  uint16_t checksum = ChecksumFinish(ChecksumAdd(frame.subspan(csum_start)));
  // As Linux's skb_checksum_help: a zero result goes out as 0xffff, which UDP
  // requires (RFC 768: zero means "no checksum") and TCP treats as equal.
  Store16(&frame[csum_start + csum_offset], checksum == 0 ? 0xffff : checksum);
  return true;
}

bool SegmentTcpV4(std::span<const uint8_t> frame, uint16_t mss, std::vector<uint8_t>& scratch,
                  const SegmentSink& emit) {
  TcpV4Layout l;
  if (mss < kMinMss || !ParseTcpV4(frame, l)) return false;
  std::span<const uint8_t> headers = frame.first(l.payload);
  std::span<const uint8_t> payload = frame.subspan(l.payload);
  uint16_t id = Load16(&frame[l.ip + kIpId]);
  uint32_t seq = Load32(&frame[l.tcp + kTcpSeq]);
  uint8_t flags = frame[l.tcp + kTcpFlags];
  size_t offset = 0;
  do {
    size_t n = std::min<size_t>(mss, payload.size() - offset);
    bool first = offset == 0, last = offset + n == payload.size();
    scratch.assign(headers.begin(), headers.end());
    scratch.insert(scratch.end(), payload.begin() + offset, payload.begin() + offset + n);
    // FIN and PSH belong to the last segment, CWR to the first only.
    uint8_t cleared = (last ? 0 : kTcpFin | kTcpPsh) | (first ? 0 : kTcpCwr);
    uint8_t segment_flags = static_cast<uint8_t>(flags & ~cleared);
    FixIpHeader(scratch, l, id++);
    FixTcpHeader(scratch, l, seq + static_cast<uint32_t>(offset), segment_flags);
    emit(scratch);
    offset += n;
  } while (offset < payload.size());
  return true;
}

}  // namespace vk::virtio::vnet
