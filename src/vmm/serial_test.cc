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

// A libkrun serial console is interactive: a prompt shows before its newline.
TEST(SerialTest, UnbufferedPortPassesEachByteOnAtOnce) {
  UniqueFd file(::memfd_create("console", MFD_CLOEXEC));
  Serial serial(
      file.get(), [] {}, kDefaultConsoleLogLimit, false);
  Print(serial, "login: ");
  EXPECT_EQ(testing::FdContents(file.get()), "login: ");
}

// Host input is never dropped by a reader that asks for room first, and it
// learns when the guest has read everything.
TEST(SerialTest, InputSpaceShrinksAndTheDrainedCallbackFires) {
  Serial serial(-1, [] {});
  int drained = 0;
  serial.SetInputDrained([&] { ++drained; });
  const size_t empty = serial.InputSpace();
  ASSERT_GT(empty, 2u);
  serial.Receive("ab");
  EXPECT_EQ(serial.InputSpace(), empty - 2);
  EXPECT_EQ(serial.Read(0), 'a');
  EXPECT_EQ(drained, 0);
  EXPECT_EQ(serial.Read(0), 'b');
  EXPECT_EQ(drained, 1);
  EXPECT_EQ(serial.InputSpace(), empty);
  serial.Receive(std::string(empty + 10, 'x'));  // beyond the bound: the excess is dropped
  EXPECT_EQ(serial.InputSpace(), 0u);
}

TEST(SerialTest, DefaultLimitIsSixteenMebibytes) {
  EXPECT_EQ(kDefaultConsoleLogLimit, 16ull << 20);
}

// Snapshots: every register, the pending THR-empty interrupt, unread
// input and the partial output line carry over into a fresh UART.
TEST(SerialTest, StateRoundTripsIntoAFreshUart) {
  UniqueFd before(::memfd_create("console", MFD_CLOEXEC));
  Serial serial(before.get(), [] {});
  serial.Write(3, 0x83);  // LCR: DLAB + 8 bits
  serial.Write(0, 0x01);  // DLL
  serial.Write(1, 0x02);  // DLM
  serial.Write(3, 0x03);  // LCR: 8N1
  serial.Write(4, 0x0b);  // MCR: DTR, RTS, OUT2
  serial.Write(7, 0x5a);  // SCR
  serial.Write(1, 0x03);  // IER: rx data + THR empty (raises THR empty)
  serial.Receive("ab");
  Print(serial, "login: ");
  StateWriter out;
  serial.SaveState(out);

  UniqueFd after(::memfd_create("console", MFD_CLOEXEC));
  int irqs = 0;
  Serial restored(after.get(), [&] { ++irqs; });
  StateReader in(out.bytes());
  ASSERT_TRUE(restored.RestoreState(in).ok());
  EXPECT_TRUE(in.Finish().ok());
  EXPECT_EQ(irqs, 0);  // the interrupt controller's state is restored on its own
  EXPECT_EQ(restored.Read(3), 0x03);
  EXPECT_EQ(restored.Read(4), 0x0b);
  EXPECT_EQ(restored.Read(7), 0x5a);
  EXPECT_EQ(restored.Read(1), 0x03);
  EXPECT_EQ(restored.Read(5) & 0x01, 0x01);  // LSR: data ready
  EXPECT_EQ(restored.Read(2) & 0x0f, 0x04);  // IIR: rx data first
  EXPECT_EQ(restored.Read(0), 'a');
  EXPECT_EQ(restored.Read(0), 'b');
  EXPECT_EQ(restored.Read(2) & 0x0f, 0x02);  // then the pending THR empty
  EXPECT_EQ(restored.Read(2) & 0x0f, 0x01);  // acknowledged: none
  restored.Write(3, 0x83);
  EXPECT_EQ(restored.Read(0), 0x01);
  EXPECT_EQ(restored.Read(1), 0x02);
  restored.Write(3, 0x03);
  Print(restored, "root\n");
  EXPECT_EQ(testing::FdContents(after.get()), "login: root\n");
  EXPECT_EQ(restored.Tail(12), "login: root\n");
}

TEST(SerialTest, TruncatedOrOversizedStateIsRefused) {
  Serial serial(-1, [] {});
  serial.Receive("x");
  StateWriter out;
  serial.SaveState(out);
  const std::vector<uint8_t>& bytes = out.bytes();
  for (size_t size = 0; size < bytes.size(); ++size) {
    Serial fresh(-1, [] {});
    StateReader in(std::span<const uint8_t>(bytes).first(size));
    EXPECT_FALSE(fresh.RestoreState(in).ok()) << size;
  }
  StateWriter huge;
  huge.BeginRecord("uart", 1);
  for (int i = 0; i < 8; ++i) huge.U8(0);
  huge.Bytes(std::vector<uint8_t>(1 << 20, 'x'));  // more input than a UART queues
  huge.String("");
  huge.String("");
  Serial fresh(-1, [] {});
  StateReader in(huge.bytes());
  EXPECT_FALSE(fresh.RestoreState(in).ok());
}

}  // namespace
}  // namespace vk
