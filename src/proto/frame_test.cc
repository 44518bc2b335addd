#include "proto/frame.h"

#include <gtest/gtest.h>

#include <random>

namespace vk::proto {
namespace {

std::vector<uint8_t> Bytes(std::string_view text) { return {text.begin(), text.end()}; }

TEST(FrameTest, EncodesHeaderBigEndian) {
  auto frame = EncodeFrame(FrameType::kStdout, Bytes("hi"));
  EXPECT_EQ(frame, (std::vector<uint8_t>{0, 0, 0, 2, 4, 'h', 'i'}));
}

TEST(FrameTest, RoundTripsSeveralFramesInOneBuffer) {
  std::vector<uint8_t> stream;
  AppendFrame(stream, FrameType::kStdin, Bytes("abc"));
  AppendFrame(stream, FrameType::kStdinClose, {});
  AppendFrame(stream, FrameType::kStderr, std::vector<uint8_t>(kMaxDataChunk, 7));
  FrameDecoder decoder;
  decoder.Feed(stream);
  auto first = decoder.Next();
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->type, FrameType::kStdin);
  EXPECT_EQ((*first)->payload, Bytes("abc"));
  auto second = decoder.Next();
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->type, FrameType::kStdinClose);
  EXPECT_TRUE((*second)->payload.empty());
  auto third = decoder.Next();
  ASSERT_TRUE(third.ok() && third->has_value());
  EXPECT_EQ((*third)->payload.size(), kMaxDataChunk);
  auto none = decoder.Next();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(decoder.buffered(), 0u);
}

TEST(FrameTest, TruncatedInputNeedsMoreBytesAtEveryLength) {
  auto frame = EncodeFrame(FrameType::kStdout, Bytes("payload"));
  for (size_t cut = 0; cut < frame.size(); ++cut) {
    FrameDecoder decoder;
    decoder.Feed({frame.data(), cut});
    auto next = decoder.Next();
    ASSERT_TRUE(next.ok()) << cut;
    EXPECT_FALSE(next->has_value()) << cut;
  }
}

TEST(FrameTest, ByteByByteFeedingYieldsTheFrame) {
  auto frame = EncodeFrame(FrameType::kStdout, Bytes("slowly"));
  FrameDecoder decoder;
  std::optional<Frame> got;
  for (uint8_t byte : frame) {
    decoder.Feed({&byte, 1});
    auto next = decoder.Next();
    ASSERT_TRUE(next.ok());
    if (next->has_value()) got = std::move(**next);
  }
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->payload, Bytes("slowly"));
}

TEST(FrameTest, OversizedLengthIsAnErrorBeforeThePayloadArrives) {
  const uint32_t length = kMaxFramePayload + 1;
  std::vector<uint8_t> header = {uint8_t(length >> 24), uint8_t(length >> 16), uint8_t(length >> 8),
                                 uint8_t(length), 4};
  FrameDecoder decoder;
  decoder.Feed(header);
  auto next = decoder.Next();
  ASSERT_FALSE(next.ok());
  EXPECT_NE(next.error().message().find("exceeds"), std::string::npos);
  // The stream has lost its framing: the decoder stays failed.
  decoder.Feed(EncodeFrame(FrameType::kStdout, Bytes("x")));
  EXPECT_FALSE(decoder.Next().ok());
}

TEST(FrameTest, MaximumLengthIsAccepted) {
  FrameDecoder decoder;
  decoder.Feed(EncodeFrame(FrameType::kExecRequest, std::vector<uint8_t>(kMaxFramePayload, 1)));
  auto next = decoder.Next();
  ASSERT_TRUE(next.ok() && next->has_value());
  EXPECT_EQ((*next)->payload.size(), kMaxFramePayload);
}

TEST(FrameTest, UnknownTypeIsAnError) {
  for (uint8_t type : {uint8_t{0}, uint8_t{14}, uint8_t{255}}) {
    FrameDecoder decoder;
    std::vector<uint8_t> frame = {0, 0, 0, 0, type};
    decoder.Feed(frame);
    EXPECT_FALSE(decoder.Next().ok()) << int(type);
  }
}

TEST(FrameTest, RandomGarbageNeverCrashes) {
  std::mt19937 random(1234);
  for (int round = 0; round < 2000; ++round) {
    std::vector<uint8_t> garbage(random() % 64);
    for (auto& byte : garbage) byte = static_cast<uint8_t>(random());
    FrameDecoder decoder;
    decoder.Feed(garbage);
    for (int i = 0; i < 16; ++i) {
      auto next = decoder.Next();
      if (!next.ok() || !next->has_value()) break;
    }
  }
}

TEST(FrameTest, KeepsBufferBoundedOverManyFrames) {
  FrameDecoder decoder;
  for (int i = 0; i < 10000; ++i) {
    decoder.Feed(EncodeFrame(FrameType::kStdout, std::vector<uint8_t>(100, 1)));
    auto next = decoder.Next();
    ASSERT_TRUE(next.ok() && next->has_value());
  }
  EXPECT_EQ(decoder.buffered(), 0u);
}

}  // namespace
}  // namespace vk::proto
