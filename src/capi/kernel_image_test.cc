#include "capi/kernel_image.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "base/testing/temp_dir.h"

namespace vk::capi {
namespace {

// `text` compressed by the real tool (gzip, bzip2, zstd) into dir/name.
std::string Compressed(const vk::testing::TempTree& dir, const std::string& tool,
                       const std::string& text, const std::string& name) {
  EXPECT_TRUE(dir.Write("plain", text));
  const std::string command = tool + " -c " + (dir / "plain") + " > " + (dir / name);
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return dir / name;
}

std::vector<uint8_t> Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

const std::string kFakeElf = std::string(
                                 "\x7f"
                                 "ELF",
                                 4) +
                             std::string(5000, 'k');

TEST(KernelImageTest, GzipBzip2AndZstdStreamsOfAnElfDecompress) {
  vk::testing::TempTree dir;
  for (const std::string tool : {"gzip", "bzip2", "zstd -q"}) {
    auto kernel = DecompressKernel(Bytes(Compressed(dir, tool, kFakeElf, "k.z")));
    ASSERT_TRUE(kernel.ok()) << tool << ": " << kernel.error().message();
    EXPECT_EQ(std::string(kernel->begin(), kernel->end()), kFakeElf) << tool;
  }
}

TEST(KernelImageTest, NotAnElfOrNotCompressedIsEinval) {
  vk::testing::TempTree dir;
  auto text = DecompressKernel(Bytes(Compressed(dir, "gzip", "just text", "t.gz")));
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.error().errno_value(), EINVAL);
  const std::string garbage = "not compressed at all";
  auto raw =
      DecompressKernel(std::span(reinterpret_cast<const uint8_t*>(garbage.data()), garbage.size()));
  EXPECT_FALSE(raw.ok());
}

TEST(KernelImageTest, TheDecompressedFileIsCachedByTheCompressedDigest) {
  vk::testing::TempTree dir;
  const std::string compressed = Compressed(dir, "gzip", kFakeElf, "vmlinux.gz");
  ::setenv("XDG_CACHE_HOME", dir.path().c_str(), 1);
  auto file = DecompressedKernelFile(compressed);
  auto again = DecompressedKernelFile(compressed);
  ::unsetenv("XDG_CACHE_HOME");
  ASSERT_TRUE(file.ok()) << file.error().message();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*file, *again);
  EXPECT_EQ(file->rfind(dir.path() + "/virtkit/kernels/", 0), 0u) << *file;
  auto bytes = Bytes(*file);
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), kFakeElf);
}

}  // namespace
}  // namespace vk::capi
