#include "capi/log_settings.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "libkrun.h"

namespace vk::capi {
namespace {

TEST(LogSettingsTest, ParsesRustLogWords) {
  EXPECT_EQ(ParseRustLogLevel("off"), 0u);
  EXPECT_EQ(ParseRustLogLevel("ERROR"), 1u);
  EXPECT_EQ(ParseRustLogLevel("Warn"), 2u);
  EXPECT_EQ(ParseRustLogLevel("info"), 3u);
  EXPECT_EQ(ParseRustLogLevel("debug"), 4u);
  EXPECT_EQ(ParseRustLogLevel("trace"), 5u);
  EXPECT_EQ(ParseRustLogLevel("vmm=debug"), std::nullopt);
  EXPECT_EQ(ParseRustLogLevel(""), std::nullopt);
  EXPECT_EQ(ParseRustLogStyle("never"), 2u);
  EXPECT_EQ(ParseRustLogStyle("sometimes"), std::nullopt);
}

TEST(LogSettingsTest, LevelAboveTraceMeansTrace) {
  EXPECT_EQ(krun_set_log_level(77), 0);
  EXPECT_EQ(KrunLogLevel(), 5u);
  EXPECT_EQ(krun_set_log_level(KRUN_LOG_LEVEL_OFF), 0);
  EXPECT_EQ(KrunLogLevel(), 0u);
}

TEST(LogSettingsTest, InitLogHonoursRustLogUnlessNoEnv) {
  ::setenv("RUST_LOG", "debug", 1);
  EXPECT_EQ(krun_init_log(KRUN_LOG_TARGET_DEFAULT, KRUN_LOG_LEVEL_ERROR, KRUN_LOG_STYLE_NEVER, 0),
            0);
  EXPECT_EQ(KrunLogLevel(), 4u);
  EXPECT_EQ(krun_init_log(2, KRUN_LOG_LEVEL_ERROR, KRUN_LOG_STYLE_AUTO, KRUN_LOG_OPTION_NO_ENV), 0);
  EXPECT_EQ(KrunLogLevel(), 1u);
  ::unsetenv("RUST_LOG");
  krun_set_log_level(KRUN_LOG_LEVEL_OFF);
}

}  // namespace
}  // namespace vk::capi
