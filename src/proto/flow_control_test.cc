#include "proto/flow_control.h"

#include <gtest/gtest.h>

namespace vk::proto {
namespace {

TEST(FlowControlTest, SenderSpendsAndRegainsCredit) {
  SendCredit credit;
  EXPECT_EQ(credit.available(), kInitialWindow);
  credit.Consume(kInitialWindow);
  EXPECT_EQ(credit.available(), 0u);
  ASSERT_TRUE(credit.Grant(1000).ok());
  EXPECT_EQ(credit.available(), 1000u);
}

TEST(FlowControlTest, ExcessiveGrantIsAViolation) {
  SendCredit credit;
  EXPECT_FALSE(credit.Grant(kMaxWindow).ok());
}

TEST(FlowControlTest, ReceiverRejectsDataBeyondCredit) {
  ReceiveWindow window;
  ASSERT_TRUE(window.OnData(kInitialWindow).ok());
  EXPECT_FALSE(window.OnData(1).ok());
}

TEST(FlowControlTest, ReceiverBatchesUpdatesUntilItsBufferEmpties) {
  ReceiveWindow window;
  ASSERT_TRUE(window.OnData(kInitialWindow).ok());
  window.OnConsumed(100);
  EXPECT_FALSE(window.TakeUpdate(/*buffer_empty=*/false).has_value());
  window.OnConsumed(kInitialWindow / 4);
  auto update = window.TakeUpdate(false);
  ASSERT_TRUE(update.has_value());
  EXPECT_EQ(*update, kInitialWindow / 4 + 100);
  window.OnConsumed(5);
  EXPECT_EQ(window.TakeUpdate(/*buffer_empty=*/true), 5u);
  EXPECT_FALSE(window.TakeUpdate(true).has_value());
  // Regained credit is usable again.
  EXPECT_TRUE(window.OnData(kInitialWindow / 4 + 105).ok());
}

}  // namespace
}  // namespace vk::proto
