#include "fleet/controller.h"

#include <gtest/gtest.h>

namespace vk::fleet {
namespace {

using proto::VirtctlOp;

TEST(FleetRightsTest, HostMayDoEverything) {
  for (VirtctlOp op : {VirtctlOp::kList, VirtctlOp::kStatus, VirtctlOp::kStart, VirtctlOp::kStop,
                       VirtctlOp::kRestart, VirtctlOp::kLogs, VirtctlOp::kDown})
    EXPECT_TRUE(CheckRight("", false, op).ok()) << proto::VirtctlOpName(op);
}

TEST(FleetRightsTest, EveryGuestMayLookButOnlyControllersChange) {
  for (VirtctlOp op : {VirtctlOp::kList, VirtctlOp::kStatus, VirtctlOp::kLogs}) {
    EXPECT_TRUE(CheckRight("redis", false, op).ok());
    EXPECT_TRUE(CheckRight("dev", true, op).ok());
  }
  for (VirtctlOp op : {VirtctlOp::kStart, VirtctlOp::kStop, VirtctlOp::kRestart}) {
    EXPECT_TRUE(CheckRight("dev", true, op).ok());
    auto refused = CheckRight("redis", false, op);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message().find("refused: redis may not " +
                                             std::string(proto::VirtctlOpName(op))),
              std::string::npos)
        << refused.error().message();
    EXPECT_NE(refused.error().message().find("control: true"), std::string::npos);
  }
}

TEST(FleetRightsTest, NoGuestTakesTheFleetDown) {
  auto refused = CheckRight("dev", true, VirtctlOp::kDown);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("vk fleet down"), std::string::npos);
}

}  // namespace
}  // namespace vk::fleet
