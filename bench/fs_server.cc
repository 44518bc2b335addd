// virtio-fs server throughput: requests driven through the real device and a
// synthetic virtqueue (FakeVirtqueue), each next to the same operation as
// plain host syscalls, so the server's overhead is the ratio between them.
//
//   build/release/vk_fs_bench [--benchmark_filter=Read]
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "virtio/fs/fs_test_harness.h"

namespace {

using vk::virtio::fs::testing::FsHarness;
using vk::virtio::fs::testing::Req;
using vk::virtio::fs::testing::TempDir;

constexpr size_t kFileSize = 8 << 20;

// A share holding one 8 MiB file, opened read-write through the server.
struct Fixture {
  Fixture() : fs({dir.path(), "bench"}) {
    std::vector<char> data(kFileSize, 'x');
    int fd = ::open((dir / "file").c_str(), O_CREAT | O_WRONLY, 0644);
    if (::write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) std::abort();
    ::close(fd);
    if (fs.Init().error != 0) std::abort();
    node = fs.Lookup(FUSE_ROOT_ID, "file").As<fuse_entry_out>().nodeid;
    fh = fs.Open(node, O_RDWR).As<fuse_open_out>().fh;
    host_dir = ::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY);
    host_file = ::open((dir / "file").c_str(), O_RDWR);
  }
  ~Fixture() {
    ::close(host_dir);
    ::close(host_file);
  }
  TempDir dir;
  FsHarness fs;
  uint64_t node = 0, fh = 0;
  int host_dir = -1, host_file = -1;
};

void BM_FsLookupGetattr(benchmark::State& state) {
  Fixture f;
  auto lookup = Req(FUSE_LOOKUP, FUSE_ROOT_ID).Str("file").Build(1);
  auto getattr = Req(FUSE_GETATTR, f.node).Arg(fuse_getattr_in{}).Build(2);
  for (auto _ : state) {
    f.fs.Place(lookup);
    benchmark::DoNotOptimize(f.fs.Submit(lookup.size(), 4096));
    f.fs.Place(getattr);
    benchmark::DoNotOptimize(f.fs.Submit(getattr.size(), 4096));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FsLookupGetattr);

void BM_HostFstatat(benchmark::State& state) {
  Fixture f;
  struct stat st;
  for (auto _ : state) {
    benchmark::DoNotOptimize(::fstatat(f.host_dir, "file", &st, AT_SYMLINK_NOFOLLOW));
    benchmark::DoNotOptimize(::fstat(f.host_file, &st));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HostFstatat);

void BM_FsRead(benchmark::State& state) {
  Fixture f;
  const uint32_t size = static_cast<uint32_t>(state.range(0));
  uint64_t offset = 0;
  for (auto _ : state) {
    auto read = Req(FUSE_READ, f.node).Arg(fuse_read_in{f.fh, offset, size, 0, 0, 0, 0}).Build(3);
    f.fs.Place(read);
    if (f.fs.Submit(read.size(), size + sizeof(fuse_out_header)) != size + 16) std::abort();
    offset = (offset + size) % kFileSize;
  }
  state.SetBytesProcessed(state.iterations() * size);
}
BENCHMARK(BM_FsRead)->Arg(4096)->Arg(1 << 20);

void BM_HostPread(benchmark::State& state) {
  Fixture f;
  const size_t size = state.range(0);
  std::vector<uint8_t> buffer(size);
  uint64_t offset = 0;
  for (auto _ : state) {
    if (::pread(f.host_file, buffer.data(), size, offset) != static_cast<ssize_t>(size)) {
      std::abort();
    }
    offset = (offset + size) % kFileSize;
  }
  state.SetBytesProcessed(state.iterations() * size);
}
BENCHMARK(BM_HostPread)->Arg(4096)->Arg(1 << 20);

void BM_FsWrite(benchmark::State& state) {
  Fixture f;
  const uint32_t size = static_cast<uint32_t>(state.range(0));
  std::vector<uint8_t> data(size, 'w');
  // The payload is placed once; each iteration rewrites only the header+args.
  auto write = Req(FUSE_WRITE, f.node).Arg(fuse_write_in{f.fh, 0, size, 0, 0, 0, 0}).Raw(data);
  auto bytes = write.Build(4);
  f.fs.Place(bytes);
  uint64_t offset = 0;
  constexpr size_t kArgs = sizeof(fuse_in_header) + sizeof(fuse_write_in);
  for (auto _ : state) {
    std::memcpy(bytes.data() + sizeof(fuse_in_header) + 8, &offset, 8);
    f.fs.Place(std::span(bytes).first(kArgs));
    if (f.fs.Submit(bytes.size(), 4096) <= 0) std::abort();
    offset = (offset + size) % kFileSize;
  }
  state.SetBytesProcessed(state.iterations() * size);
}
BENCHMARK(BM_FsWrite)->Arg(4096)->Arg(1 << 20);

void BM_HostPwrite(benchmark::State& state) {
  Fixture f;
  const size_t size = state.range(0);
  std::vector<uint8_t> data(size, 'w');
  uint64_t offset = 0;
  for (auto _ : state) {
    if (::pwrite(f.host_file, data.data(), size, offset) != static_cast<ssize_t>(size)) {
      std::abort();
    }
    offset = (offset + size) % kFileSize;
  }
  state.SetBytesProcessed(state.iterations() * size);
}
BENCHMARK(BM_HostPwrite)->Arg(4096)->Arg(1 << 20);

}  // namespace

BENCHMARK_MAIN();
