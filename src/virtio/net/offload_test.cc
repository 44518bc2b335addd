#include "virtio/net/offload.h"

#include <gtest/gtest.h>

#include "virtio/net/testing/frames.h"

namespace vk::virtio::vnet {
namespace {

using namespace testing;

TEST(VirtioNetOffload, ChecksumMatchesRfc1071Example) {
  // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (folded).
  const uint8_t bytes[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  EXPECT_EQ(ChecksumFinish(ChecksumAdd(bytes)), static_cast<uint16_t>(~0xddf2));
  const uint8_t odd[] = {0x12, 0x34, 0x56};  // the tail byte is the high half
  EXPECT_EQ(ChecksumFinish(ChecksumAdd(odd)), static_cast<uint16_t>(~(0x1234 + 0x5600)));
}

TEST(VirtioNetOffload, CompleteChecksumChecksOffsets) {
  std::vector<uint8_t> frame = Ipv4Frame(kUdp, 11);  // odd payload length
  EXPECT_FALSE(CompleteChecksum(frame, frame.size() - 1, 0));
  EXPECT_FALSE(CompleteChecksum(frame, kL4, frame.size()));
  EXPECT_FALSE(CompleteChecksum(frame, SIZE_MAX, 6));
  ASSERT_TRUE(CompleteChecksum(frame, kL4, 6));
  EXPECT_TRUE(L4ChecksumValid(frame));
}

struct Segments {
  std::vector<std::vector<uint8_t>> frames;
  SegmentSink sink() {
    return [this](std::span<const uint8_t> s) { frames.emplace_back(s.begin(), s.end()); };
  }
};

TEST(VirtioNetOffload, SegmentsTcpV4) {
  constexpr uint8_t kFin = 0x01, kPsh = 0x08, kAck = 0x10, kCwr = 0x80;
  std::vector<uint8_t> gso = Ipv4Frame(kTcp, 5000, kFin | kPsh | kAck | kCwr);
  std::vector<uint8_t> scratch;
  Segments out;
  ASSERT_TRUE(SegmentTcpV4(gso, 1448, scratch, out.sink()));
  ASSERT_EQ(out.frames.size(), 4u);  // 1448 * 3 + 656
  std::vector<uint8_t> payload;
  for (size_t i = 0; i < out.frames.size(); ++i) {
    const std::vector<uint8_t>& s = out.frames[i];
    size_t n = s.size() - kL4 - 20;
    EXPECT_EQ(n, i < 3 ? 1448u : 656u);
    EXPECT_EQ(Get16(s, kIp + 2), s.size() - kIp);          // IP total length
    EXPECT_EQ(Get16(s, kIp + 4), 0x1000 + i);              // IP id
    EXPECT_EQ(Get32(s, kL4 + 4), 0x11223344u + 1448 * i);  // sequence
    EXPECT_TRUE(IpChecksumValid(s)) << i;
    EXPECT_TRUE(L4ChecksumValid(s)) << i;
    uint8_t flags = s[kL4 + 13];
    EXPECT_TRUE(flags & kAck);
    EXPECT_EQ(bool(flags & kCwr), i == 0);
    EXPECT_EQ(bool(flags & (kFin | kPsh)), i == 3);
    payload.insert(payload.end(), s.begin() + kL4 + 20, s.end());
  }
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), gso.begin() + kL4 + 20));
}

TEST(VirtioNetOffload, SegmentsVlanTaggedAndHeaderOnlyFrames) {
  std::vector<uint8_t> plain = Ipv4Frame(kTcp, 3000);
  std::vector<uint8_t> tagged(plain.begin(), plain.begin() + 12);
  for (uint8_t b : {0x81, 0x00, 0x00, 0x05}) tagged.push_back(b);
  tagged.insert(tagged.end(), plain.begin() + 12, plain.end());
  std::vector<uint8_t> scratch;
  Segments out;
  ASSERT_TRUE(SegmentTcpV4(tagged, 1000, scratch, out.sink()));
  ASSERT_EQ(out.frames.size(), 3u);
  for (const auto& s : out.frames) {
    EXPECT_TRUE(IpChecksumValid(s, kIp + 4));
    EXPECT_TRUE(L4ChecksumValid(s, kIp + 4));
  }
  Segments bare;
  ASSERT_TRUE(SegmentTcpV4(Ipv4Frame(kTcp, 0), 1000, scratch, bare.sink()));
  ASSERT_EQ(bare.frames.size(), 1u);
  EXPECT_TRUE(L4ChecksumValid(bare.frames[0]));
}

TEST(VirtioNetOffload, RejectsMalformedGsoFrames) {
  std::vector<uint8_t> scratch;
  Segments out;
  std::vector<uint8_t> good = Ipv4Frame(kTcp, 3000);
  EXPECT_FALSE(SegmentTcpV4(good, kMinMss - 1, scratch, out.sink()));  // tiny MSS
  EXPECT_FALSE(SegmentTcpV4(Ipv4Frame(kUdp, 3000), 1000, scratch, out.sink()));
  auto mutate = [&](size_t at, uint8_t value) {
    std::vector<uint8_t> f = good;
    f[at] = value;
    return SegmentTcpV4(f, 1000, scratch, out.sink());
  };
  EXPECT_FALSE(mutate(12, 0x86));        // not IPv4 (IPv6 ethertype)
  EXPECT_FALSE(mutate(kIp, 0x44));       // IHL below 5
  EXPECT_FALSE(mutate(kIp + 6, 0x20));   // more-fragments
  EXPECT_FALSE(mutate(kL4 + 12, 0x40));  // data offset below 5
  std::vector<uint8_t> long_ip = Ipv4Frame(kTcp, 10);
  long_ip[kIp] = 0x4f;  // IHL 15: the TCP header would run past the end
  EXPECT_FALSE(SegmentTcpV4(long_ip, 1000, scratch, out.sink()));
  std::vector<uint8_t> truncated(good.begin(), good.begin() + kL4 + 10);
  EXPECT_FALSE(SegmentTcpV4(truncated, 1000, scratch, out.sink()));
  EXPECT_TRUE(out.frames.empty());
}

}  // namespace
}  // namespace vk::virtio::vnet
