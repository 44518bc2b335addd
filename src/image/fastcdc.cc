#include "image/fastcdc.h"

#include <algorithm>
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

// A gear hash only depends on the last 64 bytes: h = sum over j < 64 of
// kGear[byte at -j] << j (earlier bytes are shifted out).
constexpr size_t kWindow = 64;

// The hash FastCDC holds after data[at - 1] when it started from 0 at
// `origin`: hashing the (at most) 64 bytes before `at` gives exactly that.
inline uint64_t HashBefore(const uint8_t* data, size_t origin, size_t at) {
  uint64_t h = 0;
  for (const uint8_t *p = data + at - std::min(at - origin, kWindow), *end = data + at; p != end;
       ++p)
    h = (h << 1) + kGear[*p];
  return h;
}

// The first cut in data[from, to) byte by byte: the length of the chunk
// that ends after the first byte whose hash has no bit of `mask` set, 0
// when none has.
size_t ScanSerial(const uint8_t* data, size_t origin, size_t from, size_t to, uint64_t mask) {
  uint64_t h = HashBefore(data, origin, from);
  for (const uint8_t *p = data + from, *end = data + to; p != end; ++p) {
    h = (h << 1) + kGear[*p];
    if ((h & mask) == 0) return static_cast<size_t>(p - data) + 1;
  }
  return 0;
}

// One hash is a chain of dependent adds (a byte per cycle at best), so a
// block is scanned as kLanes independent lanes in lock step, each primed
// with the 64 bytes before it, and the core overlaps the chains. Only
// whether the block holds a cut comes out: the rare block that does is
// rescanned serially for the first one, so cut points are exactly those of
// ScanSerial over the whole range.
constexpr size_t kLanes = 4;
constexpr size_t kLaneBytes = 4096;  // priming costs 64 / 4096 = 1.6%
constexpr size_t kBlockBytes = kLanes * kLaneBytes;

bool BlockHasCut(const uint8_t* data, size_t origin, size_t at, uint64_t mask) {
  uint64_t h0 = HashBefore(data, origin, at);
  uint64_t h1 = HashBefore(data, origin, at + kLaneBytes);
  uint64_t h2 = HashBefore(data, origin, at + 2 * kLaneBytes);
  uint64_t h3 = HashBefore(data, origin, at + 3 * kLaneBytes);
  // || keeps one fused test-and-branch per lane (| would add setcc and or).
  auto step = [&](const uint8_t* p) {
    h0 = (h0 << 1) + kGear[p[0]];
    h1 = (h1 << 1) + kGear[p[kLaneBytes]];
    h2 = (h2 << 1) + kGear[p[2 * kLaneBytes]];
    h3 = (h3 << 1) + kGear[p[3 * kLaneBytes]];
    return (h0 & mask) == 0 || (h1 & mask) == 0 || (h2 & mask) == 0 || (h3 & mask) == 0;
  };
  // Two bytes per iteration halve the loop's own compare and branch.
  for (const uint8_t *p = data + at, *end = p + kLaneBytes; p != end; p += 2)
    if (step(p) || step(p + 1)) return true;
  return false;
}

// True when all n bytes at p are equal.
bool IsUniform(const uint8_t* p, size_t n) { return std::memcmp(p, p + 1, n - 1) == 0; }

// Scans data[from, to) for the first hash with no bit of `mask` set, the
// hash starting from 0 at `origin`; returns the chunk length (the cut is
// after the byte that matched), 0 when none.
//
// Inside a run of one byte value b the hash sits at a fixed point, the sum
// of kGear[b] << j for j < 64, which is -kGear[b] (mod 2^64): a block whose
// every window lies in such a run cuts at every byte or at none, and the
// zero-filled free space of a disk image is passed over at memcmp speed.
size_t Scan(const uint8_t* data, size_t origin, size_t from, size_t to, uint64_t mask) {
  size_t at = from;
  for (; to - at >= kBlockBytes; at += kBlockBytes) {
    if (at - origin >= kWindow && IsUniform(data + at - kWindow, kWindow + kBlockBytes) &&
        ((0 - kGear[data[at]]) & mask) != 0)
      continue;
    if (BlockHasCut(data, origin, at, mask))
      return ScanSerial(data, origin, at, at + kBlockBytes, mask);
  }
  return ScanSerial(data, origin, at, to, mask);
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
  // The hash starts from 0 at min (bytes before it cannot be a cut) and
  // runs on through both masks.
  if (size_t cut = Scan(data.data(), limits_.min, limits_.min, normal, mask_small_)) return cut;
  if (size_t cut = Scan(data.data(), limits_.min, normal, end, mask_large_)) return cut;
  return end;
}

bool IsAllZero(std::span<const uint8_t> data) {
  if (data.empty()) return true;
  return data[0] == 0 && std::memcmp(data.data(), data.data() + 1, data.size() - 1) == 0;
}

}  // namespace vk::image
