#include "image/fastcdc.h"

#include <bit>
#include <cstring>

namespace vk::image {
namespace {

constexpr uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

constexpr std::array<uint64_t, 256> MakeGearTable() {
  std::array<uint64_t, 256> table{};
  uint64_t state = 0;
  for (uint64_t& entry : table) entry = SplitMix64(state);
  return table;
}

constexpr std::array<uint64_t, 256> kGear = MakeGearTable();

// The mask tests the top bits of the hash: bit k of a gear hash depends on
// the last k + 1 bytes only, so the top bits see the whole 64-byte window.
constexpr uint64_t TopBits(int bits) { return ~uint64_t{0} << (64 - bits); }

// Scans data[from, to) for a hash with no bit of `mask` set; returns the
// chunk length (the cut is after the byte that matched), 0 when none.
//
// `h` is a local: `hash` is a reference, and stores through it could alias
// the bytes (uint8_t may alias anything), which would cost a store and a
// reload per byte.
inline size_t Scan(const uint8_t* data, size_t from, size_t to, uint64_t mask, uint64_t& hash) {
  uint64_t h = hash;
  for (size_t i = from; i < to; ++i) {
    h = (h << 1) + kGear[data[i]];
    if ((h & mask) == 0) {
      hash = h;
      return i + 1;
    }
  }
  hash = h;
  return 0;
}

}  // namespace

const std::array<uint64_t, 256>& GearTable() { return kGear; }

Result<FastCdc> FastCdc::Create(ChunkLimits limits) {
  if (!std::has_single_bit(limits.avg) || limits.avg < 256 || limits.min >= limits.avg ||
      limits.avg >= limits.max)
    return Error(ErrorKind::kUsage,
                 "chunk limits must be min < avg < max with avg a power of two >= 256");
  int bits = std::countr_zero(limits.avg);
  return FastCdc(limits, TopBits(bits + 2), TopBits(bits - 2));
}

size_t FastCdc::NextChunk(std::span<const uint8_t> data) const {
  size_t size = data.size();
  if (size <= limits_.min) return size;
  size_t end = std::min(size, limits_.max);
  size_t normal = std::min(end, limits_.avg);
  // The hash starts afresh at min: bytes before it cannot be a cut, and
  // after 64 bytes the hash no longer depends on where it started.
  uint64_t hash = 0;
  if (size_t cut = Scan(data.data(), limits_.min, normal, mask_small_, hash)) return cut;
  if (size_t cut = Scan(data.data(), normal, end, mask_large_, hash)) return cut;
  return end;
}

bool IsAllZero(std::span<const uint8_t> data) {
  if (data.empty()) return true;
  return data[0] == 0 && std::memcmp(data.data(), data.data() + 1, data.size() - 1) == 0;
}

}  // namespace vk::image
