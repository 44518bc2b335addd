#include "image/fastcdc.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <vector>

namespace vk::image {
namespace {

// Deterministic bytes: a 64-bit LCG (Knuth's MMIX constants), top byte.
std::vector<uint8_t> PseudoRandom(size_t size, uint64_t seed) {
  std::vector<uint8_t> out(size);
  for (uint8_t& b : out) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    b = static_cast<uint8_t>(seed >> 56);
  }
  return out;
}

std::vector<size_t> Cuts(const FastCdc& cdc, std::span<const uint8_t> data) {
  std::vector<size_t> ends;
  for (size_t at = 0; at < data.size();) {
    at += cdc.NextChunk(data.subspan(at));
    ends.push_back(at);
  }
  return ends;
}

constexpr ChunkLimits kSmall{256, 1024, 4096};

// FastCDC 2020 as the paper states it, one byte at a time: the optimized
// scan (lanes, skipped uniform runs) must cut exactly here.
size_t ReferenceNextChunk(const ChunkLimits& limits, std::span<const uint8_t> data) {
  size_t size = data.size();
  if (size <= limits.min) return size;
  size_t end = std::min(size, limits.max);
  size_t normal = std::min(end, limits.avg);
  int bits = std::countr_zero(limits.avg);
  uint64_t mask_small = ~uint64_t{0} << (64 - (bits + 2));
  uint64_t mask_large = ~uint64_t{0} << (64 - (bits - 2));
  uint64_t hash = 0;
  for (size_t i = limits.min; i < end; ++i) {
    hash = (hash << 1) + GearTable()[data[i]];
    if ((hash & (i < normal ? mask_small : mask_large)) == 0) return i + 1;
  }
  return end;
}

std::vector<size_t> ReferenceCuts(const ChunkLimits& limits, std::span<const uint8_t> data) {
  std::vector<size_t> ends;
  for (size_t at = 0; at < data.size();) {
    at += ReferenceNextChunk(limits, data.subspan(at));
    ends.push_back(at);
  }
  return ends;
}

// Random stretches between runs of one byte value (disk images hold long
// zero runs), some runs long enough to cover whole scan blocks, some of a
// value in `cutting` (whose run hash passes the mask, so a run cuts).
std::vector<uint8_t> MixedRuns(size_t size, uint64_t seed, const std::vector<uint8_t>& cutting) {
  std::vector<uint8_t> out = PseudoRandom(size, seed);
  std::vector<uint8_t> dice = PseudoRandom(size / 1024, seed + 1);
  for (size_t at = 0, k = 0; at < size && k + 3 < dice.size(); k += 4) {
    size_t gap = size_t{dice[k]} << (dice[k + 1] % 12);
    size_t run = size_t{dice[k + 2]} << (dice[k + 3] % 17);
    uint8_t value = k % 12 == 0 ? 0 : dice[k + 3];
    if (!cutting.empty() && k % 16 == 4) value = cutting[(k / 16) % cutting.size()];
    at += gap;
    std::fill(out.begin() + std::min(at, size), out.begin() + std::min(at + run, size), value);
    at += run;
  }
  return out;
}

TEST(FastCdc, GearTableIsSplitMix64FromZero) {
  EXPECT_EQ(GearTable()[0], 0xe220a8397b1dcdafull);
  EXPECT_EQ(GearTable()[1], 0x6e789e6aa1b965f4ull);
}

TEST(FastCdc, RefusesUnusableLimits) {
  EXPECT_FALSE(FastCdc::Create({1024, 1000, 4096}).ok());  // avg not a power of two
  EXPECT_FALSE(FastCdc::Create({2048, 1024, 4096}).ok());  // min >= avg
  EXPECT_FALSE(FastCdc::Create({256, 1024, 1024}).ok());   // avg >= max
  EXPECT_FALSE(FastCdc::Create({16, 64, 128}).ok());       // avg too small
  EXPECT_TRUE(FastCdc::Create().ok());
}

// Fixed vectors: cut points must never change (they name every stored
// chunk), on any machine or compiler.
TEST(FastCdc, DefaultLimitsCutFixedBoundaries) {
  FastCdc cdc = *FastCdc::Create();
  std::vector<uint8_t> data = PseudoRandom(48 << 20, 42);
  std::vector<size_t> expected = {5523112,  9749325,  14057382, 20699511, 24153194, 29229698,
                                  33430398, 38689666, 43161520, 47632891, 50331648};
  EXPECT_EQ(Cuts(cdc, data), expected);
}

TEST(FastCdc, SmallLimitsCutFixedBoundaries) {
  FastCdc cdc = *FastCdc::Create(kSmall);
  std::vector<uint8_t> data = PseudoRandom(16 << 10, 7);
  std::vector<size_t> expected = {1051, 2082,  3568,  4902,  5630,  6972,  7349, 8592,
                                  9431, 10614, 11891, 13010, 14196, 15417, 16384};
  EXPECT_EQ(Cuts(cdc, data), expected);
}

// The fast scan against the reference on inputs with many cuts per scan
// block, cuts right after long runs, runs that cut, and the default limits.
TEST(FastCdc, MatchesReferenceImplementation) {
  const ChunkLimits many_cuts{128, 256, 1 << 20};  // the large mask has 6 bits
  std::vector<uint8_t> cutting;                    // values whose run hash has none of them set
  for (int b = 0; b < 256; ++b)
    if (((0 - GearTable()[b]) >> 58) == 0) cutting.push_back(static_cast<uint8_t>(b));
  ASSERT_FALSE(cutting.empty());
  struct Case {
    ChunkLimits limits;
    size_t size;
  };
  for (const Case& c :
       {Case{ChunkLimits{}, 64 << 20}, Case{{64 << 10, 256 << 10, 1 << 20}, 24 << 20},
        Case{many_cuts, 8 << 20}, Case{kSmall, 2 << 20}}) {
    FastCdc cdc = *FastCdc::Create(c.limits);
    for (uint64_t seed : {5, 6}) {
      std::vector<uint8_t> random = PseudoRandom(c.size, seed);
      EXPECT_EQ(Cuts(cdc, random), ReferenceCuts(c.limits, random)) << "avg " << c.limits.avg;
      std::vector<uint8_t> mixed = MixedRuns(c.size, seed, cutting);
      EXPECT_EQ(Cuts(cdc, mixed), ReferenceCuts(c.limits, mixed)) << "avg " << c.limits.avg;
    }
  }
}

TEST(FastCdc, ChunksRespectMinAndMax) {
  FastCdc cdc = *FastCdc::Create(kSmall);
  std::vector<uint8_t> data = PseudoRandom(1 << 20, 3);
  std::vector<size_t> ends = Cuts(cdc, data);
  size_t start = 0, total = 0;
  for (size_t i = 0; i < ends.size(); ++i) {
    size_t length = ends[i] - start;
    if (i + 1 < ends.size()) {  // the last chunk may be short
      EXPECT_GE(length, kSmall.min) << "chunk " << i;
    }
    EXPECT_LE(length, kSmall.max) << "chunk " << i;
    total += length;
    start = ends[i];
  }
  EXPECT_EQ(total, data.size());
  // Normalized chunking keeps the mean near the average.
  double mean = static_cast<double>(data.size()) / static_cast<double>(ends.size());
  EXPECT_GT(mean, 0.75 * kSmall.avg);
  EXPECT_LT(mean, 1.75 * kSmall.avg);
}

TEST(FastCdc, ZerosCutAtMax) {
  FastCdc cdc = *FastCdc::Create(kSmall);
  std::vector<uint8_t> zeros(5 * kSmall.max + 100, 0);
  std::vector<size_t> ends = Cuts(cdc, zeros);
  ASSERT_EQ(ends.size(), 6u);
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ(ends[i], (i + 1) * kSmall.max);
}

TEST(FastCdc, ShortInputIsOneChunk) {
  FastCdc cdc = *FastCdc::Create(kSmall);
  std::vector<uint8_t> data = PseudoRandom(kSmall.min, 1);
  EXPECT_EQ(cdc.NextChunk(data), data.size());
  EXPECT_EQ(cdc.NextChunk({}), 0u);
}

// Inserting bytes early changes only the chunks around the edit: every
// chunk that ends well after it reappears, shifted by the insertion.
TEST(FastCdc, InsertionChangesOnlyNearbyChunks) {
  FastCdc cdc = *FastCdc::Create(kSmall);
  std::vector<uint8_t> data = PseudoRandom(256 << 10, 11);
  std::vector<uint8_t> edited = data;
  std::vector<uint8_t> inserted = PseudoRandom(100, 99);
  const size_t at = 5000;
  edited.insert(edited.begin() + at, inserted.begin(), inserted.end());
  std::vector<size_t> before = Cuts(cdc, data);
  std::vector<size_t> after = Cuts(cdc, edited);
  size_t unchanged_before_edit = 0;
  for (size_t end : before)
    if (end <= at) ++unchanged_before_edit;
  for (size_t i = 0; i < unchanged_before_edit; ++i) EXPECT_EQ(before[i], after[i]);
  size_t differing = 0;
  for (size_t end : after)
    if (end < at || std::find(before.begin(), before.end(), end - inserted.size()) == before.end())
      differing += end >= at;
  EXPECT_LE(differing, 2u) << "chunks cut differently after an insertion";
  EXPECT_GT(before.size(), 40u);
}

TEST(FastCdc, IsAllZero) {
  std::vector<uint8_t> bytes(1000, 0);
  EXPECT_TRUE(IsAllZero(bytes));
  EXPECT_TRUE(IsAllZero({}));
  bytes[999] = 1;
  EXPECT_FALSE(IsAllZero(bytes));
  bytes[999] = 0;
  bytes[0] = 1;
  EXPECT_FALSE(IsAllZero(bytes));
}

}  // namespace
}  // namespace vk::image
