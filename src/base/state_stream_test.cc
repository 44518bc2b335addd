#include "base/state_stream.h"

#include <gtest/gtest.h>

namespace vk {
namespace {

struct Pair {
  uint32_t a;
  uint64_t b;
};

TEST(StateStream, RoundTripsEveryFieldKind) {
  StateWriter out;
  out.BeginRecord("test", 3);
  out.U8(1);
  out.U16(2);
  out.U32(3);
  out.U64(4);
  out.Bool(true);
  out.String("name");
  out.Struct(Pair{5, 6});
  StateReader in(out.bytes());
  ASSERT_TRUE(in.ExpectRecord("test", 3).ok());
  EXPECT_EQ(*in.U8(), 1);
  EXPECT_EQ(*in.U16(), 2);
  EXPECT_EQ(*in.U32(), 3u);
  EXPECT_EQ(*in.U64(), 4u);
  EXPECT_TRUE(*in.Bool());
  EXPECT_EQ(*in.String(), "name");
  auto pair = in.Struct<Pair>("pair");
  ASSERT_TRUE(pair.ok());
  EXPECT_EQ(pair->b, 6u);
  EXPECT_TRUE(in.Finish().ok());
}

TEST(StateStream, RefusesAnotherTagOrVersion) {
  StateWriter out;
  out.BeginRecord("blk", 1);
  StateReader wrong_tag(out.bytes());
  EXPECT_NE(wrong_tag.ExpectRecord("net", 1).error().message().find("'net'"), std::string::npos);
  StateReader wrong_version(out.bytes());
  EXPECT_NE(wrong_version.ExpectRecord("blk", 2).error().message().find("version 1"),
            std::string::npos);
}

TEST(StateStream, TruncationAndHugeLengthsFailCleanly) {
  StateWriter out;
  out.String("hello");
  std::vector<uint8_t> bytes = out.Take();
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    StateReader in(std::span(bytes.data(), cut));
    EXPECT_FALSE(in.String().ok()) << "cut at " << cut;
  }
  std::vector<uint8_t> huge = {0xff, 0xff, 0xff, 0xff};
  StateReader in(huge);
  EXPECT_FALSE(in.Bytes().ok());
}

TEST(StateStream, TrailingBytesAndBadFlagsAreRefused) {
  StateWriter out;
  out.U8(7);
  StateReader flag(out.bytes());
  EXPECT_FALSE(flag.Bool().ok());
  StateReader trailing(out.bytes());
  EXPECT_FALSE(trailing.Finish().ok());
}

TEST(StateStream, StructOfAnotherSizeIsRefused) {
  StateWriter out;
  out.Struct(uint32_t{1});
  StateReader in(out.bytes());
  EXPECT_FALSE(in.Struct<Pair>("pair").ok());
}

}  // namespace
}  // namespace vk
