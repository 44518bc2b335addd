// vk_chunk_bench FILE: the bundle pipeline's CPU costs on one core, per
// byte of FILE (mapped read-only): FastCDC cut points alone, then cut +
// sha256 + zstd level 3 + sha256 of the frame, as `vk registry push` does
// for every non-zero chunk. CPU time of this thread, so a busy host shows
// per-core figures.
#include <fcntl.h>
#include <sys/stat.h>

#include <cstdio>
#include <ctime>

#include "base/mapped_region.h"
#include "base/unique_fd.h"
#include "image/bundle_chunk.h"
#include "image/fastcdc.h"

namespace {

double ThreadSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vk::image;
  if (argc != 2) {
    std::fprintf(stderr, "usage: vk_chunk_bench FILE\n");
    return 2;
  }
  vk::UniqueFd fd(::open(argv[1], O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) != 0 || st.st_size == 0) {
    std::perror(argv[1]);
    return 1;
  }
  auto map = vk::MappedRegion::File(fd.get(), static_cast<size_t>(st.st_size), false);
  if (!map.ok()) return 1;
  std::span<const uint8_t> bytes = map->span();
  FastCdc cdc = FastCdc::Create().value();
  for (size_t at = 0; at < bytes.size();) at += cdc.NextChunk(bytes.subspan(at));  // page in
  double t0 = ThreadSeconds();
  size_t chunks = 0;
  for (size_t at = 0; at < bytes.size(); ++chunks) at += cdc.NextChunk(bytes.subspan(at));
  double cut = ThreadSeconds() - t0;
  ChunkCompressor compressor = std::move(ChunkCompressor::Create()).value();
  uint64_t stored = 0, compressed = 0;
  t0 = ThreadSeconds();
  for (size_t at = 0; at < bytes.size();) {
    std::span<const uint8_t> chunk = bytes.subspan(at, cdc.NextChunk(bytes.subspan(at)));
    at += chunk.size();
    if (IsAllZero(chunk)) continue;
    (void)Sha256Of(chunk);
    std::string frame = *compressor.Compress(chunk);
    (void)Sha256Of(frame);
    stored += chunk.size();
    compressed += frame.size();
  }
  double full = ThreadSeconds() - t0;
  std::printf("chunks %zu (mean %.2f MiB)\n", chunks,
              static_cast<double>(bytes.size()) / static_cast<double>(chunks) / (1 << 20));
  std::printf("chunking_gbps_per_core %.2f\n", static_cast<double>(bytes.size()) / cut / 1e9);
  std::printf(
      "chunk_hash_compress_mbps_per_core %.0f (of %.0f MB non-zero, compressed to %.0f MB)\n",
      static_cast<double>(bytes.size()) / full / 1e6, static_cast<double>(stored) / 1e6,
      static_cast<double>(compressed) / 1e6);
  return 0;
}
