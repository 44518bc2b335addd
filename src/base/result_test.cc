#include "base/result.h"

#include <gtest/gtest.h>

#include <string>

namespace vk {
namespace {

Result<int> Half(int value) {
  if (value % 2 != 0) return Error("odd value " + std::to_string(value));
  return value / 2;
}

Result<int> Quarter(int value) {
  int half = VK_TRY_CTX(Half(value), "first half");
  return VK_TRY(Half(half));
}

TEST(ResultTest, CarriesValue) {
  Result<int> result = Half(8);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 4);
}

TEST(ResultTest, TryPropagatesErrorWithContext) {
  Result<int> result = Quarter(6);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message(), "odd value 3");
  Result<int> early = Quarter(5);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().message(), "first half: odd value 5");
}

TEST(ResultTest, FromErrnoKeepsErrno) {
  Error error = Error::FromErrno("open disk.ext4", ENOENT);
  EXPECT_EQ(error.errno_value(), ENOENT);
  EXPECT_EQ(error.message(), "open disk.ext4: No such file or directory");
  EXPECT_EQ(std::move(error).WithContext("launch").message(),
            "launch: open disk.ext4: No such file or directory");
}

TEST(ResultTest, VoidResult) {
  Result<void> ok = Ok();
  EXPECT_TRUE(ok.ok());
  Result<void> failed = Error("boom");
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(std::move(failed).Context("outer").error().message(), "outer: boom");
}

}  // namespace
}  // namespace vk
