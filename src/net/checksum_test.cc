// RFC 1071 checksum and the transport pseudo-header.
#include "net/checksum.h"

#include <gtest/gtest.h>

#include <vector>

#include "net/frame_bytes.h"

namespace vk::net {
namespace {

TEST(NetChecksum, Rfc1071Example) {
  // RFC 1071 §3: words 0001 f203 f4f5 f6f7 sum to ddf2 (after folding).
  std::vector<uint8_t> data = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(InternetChecksum(data), static_cast<uint16_t>(~0xddf2));
}

TEST(NetChecksum, OddLengthPadsWithZero) {
  std::vector<uint8_t> odd = {0x12, 0x34, 0x56};
  std::vector<uint8_t> even = {0x12, 0x34, 0x56, 0x00};
  EXPECT_EQ(InternetChecksum(odd), InternetChecksum(even));
}

TEST(NetChecksum, StoredChecksumVerifiesToZero) {
  std::vector<uint8_t> data = {0x45, 0x00, 0x00, 0x1c, 0x12, 0x34, 0, 0, 64, 17, 0, 0};
  Store16(data, 10, InternetChecksum(data));
  EXPECT_EQ(InternetChecksum(data), 0);
}

TEST(NetChecksum, PseudoHeaderRoundTrip) {
  std::vector<uint8_t> segment = {0x30, 0x39, 0x00, 0x35, 0x00, 0x0b, 0x00, 0x00, 'a', 'b', 'c'};
  uint16_t sum = TransportChecksum(0xc0a87f02, 0xc0a87f01, 17, segment);
  Store16(segment, 6, sum);
  EXPECT_EQ(TransportChecksum(0xc0a87f02, 0xc0a87f01, 17, segment), 0);
  // A different address breaks it: the pseudo-header is covered.
  EXPECT_NE(TransportChecksum(0xc0a87f03, 0xc0a87f01, 17, segment), 0);
}

TEST(NetChecksum, AccumulatorMatchesOneShot) {
  std::vector<uint8_t> data(100);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7);
  ChecksumAccumulator acc;
  acc.Add(Bytes(data).first(40));
  acc.Add(Bytes(data).subspan(40));
  EXPECT_EQ(acc.Finish(), InternetChecksum(data));
}

}  // namespace
}  // namespace vk::net
