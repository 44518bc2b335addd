#include "base/capped_write.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "base/testing/fd_testing.h"
#include "base/unique_fd.h"

namespace vk {
namespace {

std::span<const uint8_t> Bytes(const std::string& text) {
  return std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size());
}

TEST(WriteCappedTest, StopsAtTheLimitWithOneMarkerLine) {
  UniqueFd file(::memfd_create("console", MFD_CLOEXEC));
  WriteCapped(file.get(), Bytes("0123456789"), 16);
  WriteCapped(file.get(), Bytes("abcdefghij"), 16);  // crosses: 6 bytes fit
  for (int i = 0; i < 1000; ++i) WriteCapped(file.get(), Bytes("more output\n"), 16);
  EXPECT_EQ(testing::FdContents(file.get()),
            "0123456789abcdef\n[console output truncated at 16 bytes]\n");
}

TEST(WriteCappedTest, TwoWritersOfOneFileShareTheLimit) {
  UniqueFd file(::memfd_create("console", MFD_CLOEXEC));
  UniqueFd other(::fcntl(file.get(), F_DUPFD_CLOEXEC, 0));  // e.g. serial + hvc0
  for (int i = 0; i < 100; ++i) {
    WriteCapped(file.get(), Bytes("serial line\n"), 100);
    WriteCapped(other.get(), Bytes("hvc0 line\n"), 100);
  }
  std::string text = testing::FdContents(file.get());
  EXPECT_EQ(text.size(), 100 + std::string("\n[console output truncated at 100 bytes]\n").size());
  EXPECT_EQ(text.find("truncated"), text.rfind("truncated"));
}

TEST(WriteCappedTest, ResumesWhenTheFileIsTruncatedAndPipesAreNotCapped) {
  UniqueFd file(::memfd_create("console", MFD_CLOEXEC));
  WriteCapped(file.get(), Bytes(std::string(64, 'x')), 32);
  ASSERT_EQ(::ftruncate(file.get(), 0), 0);
  ASSERT_EQ(::lseek(file.get(), 0, SEEK_SET), 0);
  WriteCapped(file.get(), Bytes("after\n"), 32);
  EXPECT_EQ(testing::FdContents(file.get()), "after\n");

  int pipe[2];
  ASSERT_EQ(::pipe2(pipe, O_CLOEXEC | O_NONBLOCK), 0);
  UniqueFd read_end(pipe[0]), write_end(pipe[1]);
  WriteCapped(write_end.get(), Bytes(std::string(64, 'y')), 32);
  char buffer[128];
  EXPECT_EQ(::read(read_end.get(), buffer, sizeof(buffer)), 64);
}

}  // namespace
}  // namespace vk
