#include "fleet/image_healthcheck.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/testing/temp_dir.h"
#include "fleet/health_tracker.h"
#include "image/pull.h"

namespace vk::fleet {
namespace {

using std::chrono::seconds;
using Strings = std::vector<std::string>;

constexpr int64_t kSecond = 1'000'000'000;

// What `HEALTHCHECK --interval=10s --retries=7 CMD-SHELL pg_isready` stores.
build::HealthConfig ImageCheck() {
  build::HealthConfig image;
  image.test = {"CMD-SHELL", "pg_isready"};
  image.interval_ns = 10 * kSecond;
  image.retries = 7;
  return image;
}

TEST(ImageHealthcheckTest, WithoutAHealthcheckInTheFileTheImagesRunsWithDockersDefaults) {
  auto check = EffectiveHealthcheck(std::nullopt, ImageCheck());
  ASSERT_TRUE(check);
  EXPECT_EQ(check->kind, HealthTestKind::kCmdShell);
  EXPECT_EQ(check->test, Strings{"pg_isready"});
  EXPECT_EQ(check->interval, seconds(10));
  EXPECT_EQ(check->retries, 7);
  EXPECT_EQ(check->timeout, seconds(30));  // neither sets it: docker's default
  EXPECT_EQ(check->start_period, seconds(0));
  EXPECT_EQ(check->start_interval, seconds(5));
}

TEST(ImageHealthcheckTest, NoCheckAnywhereIsNoCheck) {
  EXPECT_FALSE(EffectiveHealthcheck(std::nullopt, std::nullopt));
  Healthcheck timings_only;
  timings_only.interval = seconds(2);
  EXPECT_FALSE(EffectiveHealthcheck(timings_only, std::nullopt));
}

TEST(ImageHealthcheckTest, DisableInTheFileWinsOverTheImage) {
  Healthcheck disabled;
  disabled.kind = HealthTestKind::kNone;
  EXPECT_FALSE(InheritsFromImage(disabled));
  EXPECT_FALSE(EffectiveHealthcheck(disabled, ImageCheck()));
}

TEST(ImageHealthcheckTest, TheFilesTimingsOverTheImagesTest) {
  Healthcheck file;  // healthcheck: {interval: 2s, timeout: 1s}
  file.interval = seconds(2);
  file.timeout = seconds(1);
  EXPECT_TRUE(InheritsFromImage(file));
  auto check = EffectiveHealthcheck(file, ImageCheck());
  ASSERT_TRUE(check);
  EXPECT_EQ(check->test, Strings{"pg_isready"});
  EXPECT_EQ(check->interval, seconds(2));
  EXPECT_EQ(check->timeout, seconds(1));
  EXPECT_EQ(check->retries, 7);  // the image's, the file has none
}

TEST(ImageHealthcheckTest, TheFilesTestOverTheImagesTimings) {
  Healthcheck file;
  file.kind = HealthTestKind::kCmd;
  file.test = {"curl", "-f", "http://localhost"};
  auto check = EffectiveHealthcheck(file, ImageCheck());
  ASSERT_TRUE(check);
  EXPECT_EQ(check->kind, HealthTestKind::kCmd);
  EXPECT_EQ(check->test, (Strings{"curl", "-f", "http://localhost"}));
  EXPECT_EQ(check->interval, seconds(10));
  EXPECT_EQ(check->retries, 7);
}

TEST(ImageHealthcheckTest, AFullyWrittenCheckNeedsNoImage) {
  Healthcheck file;
  file.test = {"true"};
  file.interval = file.timeout = file.start_period = file.start_interval = seconds(1);
  file.retries = 1;
  EXPECT_FALSE(InheritsFromImage(file));
  EXPECT_TRUE(InheritsFromImage(std::nullopt));
  EXPECT_EQ(EffectiveHealthcheck(file, ImageCheck()), file);
}

TEST(ImageHealthcheckTest, AnImageTestOfNoneOrOfAnUnknownKindIsNoCheck) {
  for (const Strings& test : {Strings{"NONE"}, Strings{}, Strings{"CMD"}, Strings{"RUN", "x"}}) {
    build::HealthConfig image = ImageCheck();
    image.test = test;
    EXPECT_FALSE(EffectiveHealthcheck(std::nullopt, image)) << ::testing::PrintToString(test);
  }
}

TEST(ImageHealthcheckTest, NegativeImageTimingsAreUnset) {
  build::HealthConfig image = ImageCheck();
  image.timeout_ns = -5;
  image.retries = -1;
  auto check = EffectiveHealthcheck(std::nullopt, image);
  ASSERT_TRUE(check);
  EXPECT_EQ(check->timeout, seconds(30));
  EXPECT_EQ(check->retries, 3);
}

TEST(ImageHealthcheckTest, TimingsOverAYearAreAYear) {
  const auto year = std::chrono::hours(24 * 365);
  build::HealthConfig image = ImageCheck();
  image.interval_ns = INT64_MAX;  // a registry's image may say anything
  image.timeout_ns = INT64_MAX;
  Healthcheck file;
  file.start_interval = std::chrono::nanoseconds(INT64_MAX);
  auto check = EffectiveHealthcheck(file, image);
  ASSERT_TRUE(check);
  EXPECT_EQ(check->interval, year);
  EXPECT_EQ(check->timeout, year);
  EXPECT_EQ(check->start_interval, year);
  // What Unit::Probe and HealthTracker add to now(): no overflow.
  HealthTracker tracker(*check, Clock::now());
  EXPECT_GT(tracker.NextProbe(), Clock::now());
}

class StoredImageHealthcheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = image::Store::Open(tmp_ / "store");
    ASSERT_TRUE(store.ok()) << store.error().message();
    store_.emplace(std::move(*store));
  }

  // Records `name` in the store with `config` as its image config.
  void Record(const std::string& name, const std::string& config) {
    auto digest = store_->PutBlob(config);
    ASSERT_TRUE(digest.ok()) << digest.error().message();
    image::ImageRecord record;
    record.name = image::StoreName(*image::ParseImageSource(name));
    record.source = name;
    record.manifest_digest = *digest;  // never read here
    record.config_digest = *digest;
    record.platform = "linux/amd64";
    ASSERT_TRUE(store_->WriteImage(record).ok());
  }

  vk::testing::TempTree tmp_;
  std::optional<image::Store> store_;
};

TEST_F(StoredImageHealthcheckTest, ReadsTheHealthcheckABuildWrote) {
  Record("shop-db:latest", R"({"architecture": "amd64", "os": "linux", "config": {
      "Healthcheck": {"Test": ["CMD-SHELL", "pg_isready -U postgres"],
                      "Interval": 2000000000, "Retries": 4}}})");
  auto read = ReadImageHealthcheck(*store_, "shop-db:latest");
  ASSERT_TRUE(read.ok()) << read.error().message();
  ASSERT_TRUE(*read);
  EXPECT_EQ((*read)->test, (Strings{"CMD-SHELL", "pg_isready -U postgres"}));
  EXPECT_EQ((*read)->interval_ns, 2 * kSecond);
  EXPECT_EQ((*read)->retries, 4);
}

TEST_F(StoredImageHealthcheckTest, AnImageWithoutOneHasNone) {
  Record("docker.io/library/redis:7", R"({"architecture": "amd64", "os": "linux", "config": {}})");
  auto read = ReadImageHealthcheck(*store_, "redis:7");  // the same image, short name
  ASSERT_TRUE(read.ok()) << read.error().message();
  EXPECT_FALSE(*read);
}

TEST_F(StoredImageHealthcheckTest, AnImageNotStoredIsAnErrorAndNothingIsPulled) {
  auto read = ReadImageHealthcheck(*store_, "127.0.0.1:1/nothing:here");
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.error().message(), ::testing::HasSubstr("not in the store"));
}

TEST_F(StoredImageHealthcheckTest, ABadConfigNamesTheImage) {
  Record("bad:1", R"({"config": {"Healthcheck": {"Test": "pg_isready"}}})");
  auto read = ReadImageHealthcheck(*store_, "bad:1");
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.error().message(), ::testing::HasSubstr("bad:1"));
  EXPECT_THAT(read.error().message(), ::testing::HasSubstr("Test"));
}

}  // namespace
}  // namespace vk::fleet
