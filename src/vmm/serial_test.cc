#include "vmm/serial.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <string>

#include "base/testing/fd_testing.h"
#include "base/unique_fd.h"

namespace vk {
namespace {

void Print(Serial& serial, const std::string& text) {
  for (char c : text) serial.Write(0, static_cast<uint8_t>(c));  // THR
}

TEST(SerialTest, GuestOutputReachesTheFileLineByLine) {
  UniqueFd file(::memfd_create("console", MFD_CLOEXEC));
  Serial serial(file.get(), [] {});
  Print(serial, "Linux version 6.1\nno newline yet");
  EXPECT_EQ(testing::FdContents(file.get()), "Linux version 6.1\n");
  serial.Flush();
  EXPECT_EQ(testing::FdContents(file.get()), "Linux version 6.1\nno newline yet");
}

TEST(SerialTest, ConsoleFileStopsGrowingAtItsLimit) {
  UniqueFd file(::memfd_create("console", MFD_CLOEXEC));
  Serial serial(
      file.get(), [] {}, 1024);
  // A guest printing in a loop (a crash loop, `yes > /dev/console`).
  for (int i = 0; i < 10000; ++i) Print(serial, "y\n");
  serial.Flush();
  std::string text = testing::FdContents(file.get());
  const std::string marker = "\n[console output truncated at 1024 bytes]\n";
  EXPECT_EQ(text.size(), 1024 + marker.size());
  EXPECT_EQ(text.substr(1024), marker);
  // The tail kept for error messages still shows the latest output.
  EXPECT_EQ(serial.Tail(4), "y\ny\n");
}

TEST(SerialTest, DefaultLimitIsSixteenMebibytes) {
  EXPECT_EQ(kDefaultConsoleLogLimit, 16ull << 20);
}

}  // namespace
}  // namespace vk
