// The agent's control port lines (proto/control_line.h).
#include "proto/control_line.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vk::proto {
namespace {

ControlRequest Clock(uint64_t ns) { return {ControlRequest::Kind::kClock, ns, {}}; }
ControlRequest Entropy(std::vector<uint8_t> bytes) {
  return {ControlRequest::Kind::kEntropy, 0, std::move(bytes)};
}

TEST(ControlLine, RoundTrips) {
  std::vector<uint8_t> seed(kMaxControlEntropy);
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(i * 37 + 1);
  for (const ControlRequest& request :
       {ControlRequest{}, Clock(0), Clock(UINT64_MAX), Clock(1700000000123456789ull), Entropy(seed),
        Entropy(std::vector<uint8_t>(kMinControlEntropy, 0xff)),
        ControlRequest{ControlRequest::Kind::kResetTcp, 0, {}}}) {
    std::string line = FormatControlRequest(request);
    ASSERT_EQ(line.back(), '\n');
    ASSERT_LE(line.size() - 1, kMaxControlLine);
    auto parsed = ParseControlRequest(line.substr(0, line.size() - 1));
    ASSERT_TRUE(parsed.ok()) << line << ": " << parsed.error().message();
    EXPECT_EQ(parsed->kind, request.kind);
    EXPECT_EQ(parsed->clock_ns, request.clock_ns);
    EXPECT_EQ(parsed->entropy, request.entropy);
  }
  EXPECT_EQ(FormatControlRequest({}), "poweroff\n");  // what older hosts send
  EXPECT_EQ(FormatControlRequest({ControlRequest::Kind::kResetTcp, 0, {}}), "reset-tcp\n");
}

TEST(ControlLine, RefusesAnythingElse) {
  const std::string seed(2 * kMinControlEntropy, 'a');
  const std::vector<std::string> refused = {
      "",
      "poweroff ",
      "reboot",
      "reset-tcp ",
      "reset-tcp 1",
      "reset",
      "clock",
      "clock ",
      "clock -1",
      "clock 1 2",
      "clock x",
      "clock 0x10",
      "clock 18446744073709551616",
      "clock  123",
      "CLOCK 123",
      "clock 1\r",
      "entropy ",
      "entropy " + seed.substr(1),                                // odd digits
      "entropy " + seed.substr(2),                                // 31 bytes: too little
      "entropy " + std::string(2 * kMaxControlEntropy + 2, 'a'),  // 65 bytes: too much
      "entropy " + seed.substr(1) + "g",
      "entropy " + seed.substr(1) + "A",  // uppercase: not what the host writes
  };
  for (const std::string& line : refused) {
    EXPECT_FALSE(ParseControlRequest(line).ok()) << "accepted \"" << line << "\"";
  }
  EXPECT_TRUE(ParseControlRequest("entropy " + seed + seed).ok());  // 64 bytes: the most
}

}  // namespace
}  // namespace vk::proto
