#include "net/checksum.h"

namespace vk::net {

void ChecksumAccumulator::Add(Bytes data) {
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum_ += Load16(data, i);
  if (i < data.size()) sum_ += static_cast<uint16_t>(data[i] << 8);
}

uint16_t ChecksumAccumulator::Finish() const {
  uint64_t sum = sum_;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

uint16_t InternetChecksum(Bytes data) {
  ChecksumAccumulator acc;
  acc.Add(data);
  return acc.Finish();
}

uint16_t TransportChecksum(uint32_t src_ip, uint32_t dst_ip, uint8_t protocol, Bytes segment) {
  ChecksumAccumulator acc;
  acc.Add32(src_ip);
  acc.Add32(dst_ip);
  acc.Add16(protocol);
  acc.Add16(static_cast<uint16_t>(segment.size()));
  acc.Add(segment);
  return acc.Finish();
}

}  // namespace vk::net
