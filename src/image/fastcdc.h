// FastCDC content-defined chunking (Xia et al., "The Design of Fast
// Content-Defined Chunking for Data Deduplication Based Storage Systems",
// IEEE TPDS 2020) with normalized chunking: a cut is where a gear hash of
// the last 64 bytes has its mask bits all zero, with a harder mask before
// the average size and an easier one after it, so chunk sizes cluster
// around the average. Cuts depend only on nearby content: an edit moves the
// cut points around it and no others, which is what lets a re-push send
// only the chunks near a change.
//
// The gear table is fixed forever (changing it would change every chunk of
// every bundle): entry i is the (i+1)-th output of SplitMix64 (Steele, Lea
// and Flood 2014) started from state 0, so entry 0 is 0xe220a8397b1dcdaf.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/result.h"

namespace vk::image {

// Chunk size limits. avg must be a power of two with min < avg < max; the
// bundle format uses the defaults and records them in its manifest.
struct ChunkLimits {
  size_t min = 1 << 20;
  size_t avg = 4 << 20;
  size_t max = 16 << 20;
};

const std::array<uint64_t, 256>& GearTable();

class FastCdc {
 public:
  // Refuses limits that are not min < avg < max with avg a power of two
  // of at least 2^8 (the masks need avg's bits + 2 of the 64).
  static Result<FastCdc> Create(ChunkLimits limits = {});

  // The length of the chunk that starts at data[0]: the first cut point
  // after `min` bytes, at most `max`; all of `data` when it is no longer
  // than `min` or holds no cut (a caller passes the rest of the input, so
  // a short tail is the last chunk). One pass, no copy.
  size_t NextChunk(std::span<const uint8_t> data) const;

  const ChunkLimits& limits() const { return limits_; }

 private:
  FastCdc(ChunkLimits limits, uint64_t mask_small, uint64_t mask_large)
      : limits_(limits), mask_small_(mask_small), mask_large_(mask_large) {}
  ChunkLimits limits_;
  uint64_t mask_small_;  // before avg: log2(avg) + 2 bits, cuts are rarer
  uint64_t mask_large_;  // after avg: log2(avg) - 2 bits, cuts are likelier
};

// True when every byte is zero (chunks a bundle does not store).
bool IsAllZero(std::span<const uint8_t> data);

}  // namespace vk::image
