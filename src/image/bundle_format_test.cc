#include "image/bundle_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "image/bundle_chunk.h"

namespace vk::image {
namespace {

using ::testing::HasSubstr;

const std::string kDigestA = "sha256:" + std::string(64, 'a');
const std::string kDigestB = "sha256:" + std::string(64, 'b');

BundleIndex TwoParts() {
  BundleIndex index;
  index.parts = {{"disk.ext4", "disk", 64 << 20, 0644}, {"kernel", "kernel", 3000, 0600}};
  return index;
}

BundleChunk Chunk(size_t part, uint64_t offset, uint64_t length) {
  return {part, offset, length, kDigestA, {std::string(kBundleChunkType), kDigestB, 10, {}, {}}};
}

// Serialises `chunks`, parses both documents back and resolves them.
Result<BundleManifest> RoundTrip(const BundleIndex& index, const std::vector<BundleChunk>& chunks) {
  std::string index_json = SerializeBundleIndex(index);
  Descriptor blob{std::string(kBundleIndexType), Sha256Of(index_json), index_json.size(), {}, {}};
  BundleManifest manifest =
      VK_TRY(ParseBundleManifest(SerializeBundleManifest(blob, index, chunks)));
  BundleIndex parsed = VK_TRY(ParseBundleIndex(index_json));
  VK_TRY(ResolveBundle(parsed, manifest));
  return manifest;
}

TEST(BundleFormat, RoundTripSortsChunksPerPart) {
  auto m =
      RoundTrip(TwoParts(), {Chunk(1, 0, 3000), Chunk(0, 8 << 20, 1 << 20), Chunk(0, 0, 4096)});
  ASSERT_TRUE(m.ok()) << m.error().message();
  ASSERT_EQ(m->chunks.size(), 3u);
  EXPECT_EQ(m->chunks[0].part, 0u);
  EXPECT_EQ(m->chunks[0].offset, 0u);
  EXPECT_EQ(m->chunks[1].offset, 8u << 20);
  EXPECT_EQ(m->chunks[2].part, 1u);
  EXPECT_EQ(m->chunks[2].raw_digest, kDigestA);
  EXPECT_EQ(m->chunks[2].blob.digest, kDigestB);
}

TEST(BundleFormat, IndexRoundTrip) {
  BundleIndex index = TwoParts();
  auto parsed = ParseBundleIndex(SerializeBundleIndex(index));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  ASSERT_EQ(parsed->parts.size(), 2u);
  EXPECT_EQ(parsed->parts[1].mode, 0600u);
  EXPECT_EQ(parsed->limits.avg, 4u << 20);
}

TEST(BundleFormat, RefusesOverlapsAndChunksOutsideTheirPart) {
  auto overlap = RoundTrip(TwoParts(), {Chunk(0, 0, 4096), Chunk(0, 4095, 10)});
  ASSERT_FALSE(overlap.ok());
  EXPECT_THAT(overlap.error().message(), HasSubstr("overlap"));
  EXPECT_FALSE(RoundTrip(TwoParts(), {Chunk(1, 2999, 2)}).ok());          // past the end
  EXPECT_FALSE(RoundTrip(TwoParts(), {Chunk(0, 0, 17 << 20)}).ok());      // over max
  EXPECT_FALSE(RoundTrip(TwoParts(), {Chunk(0, ~uint64_t{0}, 2)}).ok());  // wraps
  EXPECT_FALSE(RoundTrip(TwoParts(), {Chunk(0, 0, 0)}).ok());
  BundleChunk big = Chunk(1, 0, 10);
  big.blob.size = 1 << 20;  // no 10-byte chunk compresses to 1 MiB
  EXPECT_FALSE(RoundTrip(TwoParts(), {big}).ok());
}

TEST(BundleFormat, RefusesHostileIndexes) {
  auto parse = [](const std::string& parts) {
    return ParseBundleIndex(
        R"({"version":1,"chunker":{"algorithm":"fastcdc-2020","gear":"splitmix64-0",)"
        R"("min":1048576,"avg":4194304,"max":16777216},"parts":)" +
        parts + "}");
  };
  EXPECT_TRUE(parse(R"([{"name":"a.ext4","role":"disk","size":1,"mode":420}])").ok());
  EXPECT_FALSE(parse(R"([{"name":"../a.ext4","role":"disk","size":1,"mode":420}])").ok());
  EXPECT_FALSE(parse(R"([{"name":"x/a.ext4","role":"disk","size":1,"mode":420}])").ok());
  EXPECT_FALSE(parse(R"([{"name":"a.ext4","role":"kernel","size":1,"mode":420}])").ok());
  EXPECT_FALSE(parse(R"([{"name":"a.ext4","role":"disk","size":1,"mode":2541}])").ok());
  EXPECT_FALSE(parse(R"([{"name":"a.ext4","role":"disk","size":-1,"mode":420}])").ok());
  EXPECT_FALSE(parse(R"([{"name":"a.ext4","role":"disk","size":1e30,"mode":420}])").ok());
  EXPECT_FALSE(parse(R"([{"name":"a.ext4","role":"disk","size":1,"mode":420},)"
                     R"({"name":"a.ext4","role":"disk","size":1,"mode":420}])")
                   .ok());
  EXPECT_FALSE(parse("[]").ok());
  EXPECT_FALSE(ParseBundleIndex(R"({"version":2})").ok());
  EXPECT_FALSE(ParseBundleIndex("not json").ok());
}

TEST(BundleFormat, ImageManifestIsNotABundle) {
  auto parsed = ParseBundleManifest(
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{},"layers":[]})");
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.error().message(), HasSubstr("not a virtkit bundle"));
}

TEST(BundleFormat, PartRoles) {
  EXPECT_EQ(*PartRole("root.ext4"), "disk");
  EXPECT_EQ(*PartRole("config.json"), "config");
  EXPECT_EQ(*PartRole("kernel"), "kernel");
  EXPECT_FALSE(PartRole("notes.txt").ok());
  EXPECT_FALSE(PartRole(".ext4").ok());
}

TEST(BundleChunk, CompressRoundTripAndCorruptFrames) {
  ChunkCompressor compressor = std::move(ChunkCompressor::Create()).value();
  ChunkDecompressor decompressor = std::move(ChunkDecompressor::Create()).value();
  std::vector<uint8_t> raw(100000);
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>(i * 7 % 251);
  std::string frame = *compressor.Compress(raw);
  EXPECT_LT(frame.size(), raw.size());
  std::vector<uint8_t> back(raw.size());
  ASSERT_TRUE(decompressor.Decompress(frame, back).ok());
  EXPECT_EQ(back, raw);
  std::vector<uint8_t> short_out(raw.size() - 1);
  EXPECT_FALSE(decompressor.Decompress(frame, short_out).ok());
  std::string damaged = frame;
  damaged[damaged.size() / 2] ^= 0x55;
  auto result = decompressor.Decompress(damaged, back);
  EXPECT_TRUE(!result.ok() || back != raw);  // zstd's checksum-free frames may decode wrongly
  EXPECT_FALSE(decompressor.Decompress("garbage", back).ok());
}

}  // namespace
}  // namespace vk::image
