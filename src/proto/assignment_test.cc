#include "proto/assignment.h"

#include <gtest/gtest.h>

#include "base/state_stream.h"

namespace vk::proto {
namespace {

Assignment Sample() {
  Assignment assignment;
  assignment.params = "vk.root=/dev/vda vk.serve=4444 vk.hostname=web vk.net=dhcp";
  for (int i = 0; i < 48; ++i) assignment.entropy.push_back(static_cast<uint8_t>(i * 7));
  assignment.wall_clock_ns = 1'700'000'000'123'456'789ull;
  assignment.mac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  return assignment;
}

std::span<const uint8_t> RecordOf(const std::vector<uint8_t>& frame) {
  return std::span(frame).subspan(kAssignmentHeaderSize);
}

TEST(AssignmentTest, RoundTrips) {
  for (bool with_mac : {true, false}) {
    Assignment assignment = Sample();
    if (!with_mac) assignment.mac.clear();
    const auto frame = EncodeAssignment(assignment);
    auto length = DecodeAssignmentLength(std::span(frame).first<kAssignmentHeaderSize>());
    ASSERT_TRUE(length.ok()) << length.error().message();
    EXPECT_EQ(*length, frame.size() - kAssignmentHeaderSize);
    auto decoded = DecodeAssignment(RecordOf(frame));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message();
    EXPECT_EQ(decoded->params, assignment.params);
    EXPECT_EQ(decoded->entropy, assignment.entropy);
    EXPECT_EQ(decoded->wall_clock_ns, assignment.wall_clock_ns);
    EXPECT_EQ(decoded->mac, assignment.mac);
  }
}

// The layout the host side must produce byte for byte (docs/protocol.md).
TEST(AssignmentTest, WireLayoutIsLittleEndianTaggedRecord) {
  Assignment assignment;
  assignment.params = "vk.idle=1";
  assignment.entropy.assign(32, 0xab);
  assignment.wall_clock_ns = 0x0102030405060708ull;
  const auto frame = EncodeAssignment(assignment);
  const std::vector<uint8_t> head = {// record length 4+4 + 4+9 + 4+32 + 8 + 4 = 69
                                     69,  0,   0,   0,   'a', 's', 'g', 'n', 1,   0,
                                     0,   0,   9,   0,   0,   0,   'v', 'k', '.', 'i',
                                     'd', 'l', 'e', '=', '1', 32,  0,   0,   0};
  ASSERT_EQ(frame.size(), 4u + 69u);
  EXPECT_EQ(std::vector<uint8_t>(frame.begin(), frame.begin() + head.size()), head);
  const std::vector<uint8_t> tail = {8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0};
  EXPECT_EQ(std::vector<uint8_t>(frame.end() - 12, frame.end()), tail);
}

TEST(AssignmentTest, EveryTruncationFailsCleanly) {
  const auto frame = EncodeAssignment(Sample());
  const auto record = RecordOf(frame);
  for (size_t size = 0; size < record.size(); ++size) {
    auto decoded = DecodeAssignment(record.first(size));
    EXPECT_FALSE(decoded.ok()) << "accepted the first " << size << " bytes";
  }
}

TEST(AssignmentTest, TrailingBytesRefused) {
  auto frame = EncodeAssignment(Sample());
  frame.push_back(0);
  EXPECT_FALSE(DecodeAssignment(RecordOf(frame)).ok());
}

TEST(AssignmentTest, TooLittleOrTooMuchEntropyRefused) {
  Assignment assignment = Sample();
  assignment.entropy.assign(kMinAssignmentEntropy - 1, 0x5a);
  auto decoded = DecodeAssignment(RecordOf(EncodeAssignment(assignment)));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message().find("entropy is 31 bytes"), std::string::npos)
      << decoded.error().message();
  assignment.entropy.assign(kMinAssignmentEntropy, 0x5a);
  EXPECT_TRUE(DecodeAssignment(RecordOf(EncodeAssignment(assignment))).ok());
  assignment.entropy.assign(kMaxAssignmentEntropy + 1, 0x5a);
  EXPECT_FALSE(DecodeAssignment(RecordOf(EncodeAssignment(assignment))).ok());
}

TEST(AssignmentTest, BadMacRefused) {
  Assignment assignment = Sample();
  for (size_t size : {1u, 5u, 7u, 16u}) {
    assignment.mac.assign(size, 0x02);
    auto decoded = DecodeAssignment(RecordOf(EncodeAssignment(assignment)));
    ASSERT_FALSE(decoded.ok()) << size;
    EXPECT_NE(decoded.error().message().find("MAC is"), std::string::npos);
  }
  assignment.mac = {0x01, 0, 0x5e, 0, 0, 1};  // multicast
  EXPECT_FALSE(DecodeAssignment(RecordOf(EncodeAssignment(assignment))).ok());
  assignment.mac.assign(6, 0);
  EXPECT_FALSE(DecodeAssignment(RecordOf(EncodeAssignment(assignment))).ok());
}

TEST(AssignmentTest, WrongTagOrVersionRefused) {
  for (auto [tag, version] : {std::pair{"asgX", 1u}, std::pair{"asgn", 2u}}) {
    StateWriter writer;
    writer.BeginRecord(tag, version);
    auto decoded = DecodeAssignment(writer.bytes());
    EXPECT_FALSE(decoded.ok()) << tag << version;
  }
}

TEST(AssignmentTest, LengthHeaderIsCapped) {
  const uint8_t empty[4] = {0, 0, 0, 0};
  EXPECT_FALSE(DecodeAssignmentLength(std::span<const uint8_t, 4>(empty)).ok());
  const uint8_t max[4] = {0x00, 0x00, 0x01, 0x00};  // 64 KiB
  EXPECT_EQ(DecodeAssignmentLength(std::span<const uint8_t, 4>(max)).value(), kMaxAssignmentRecord);
  const uint8_t over[4] = {0x01, 0x00, 0x01, 0x00};
  EXPECT_FALSE(DecodeAssignmentLength(std::span<const uint8_t, 4>(over)).ok());
  const uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
  EXPECT_FALSE(DecodeAssignmentLength(std::span<const uint8_t, 4>(huge)).ok());
}

}  // namespace
}  // namespace vk::proto
