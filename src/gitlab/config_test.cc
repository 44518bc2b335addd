#include "gitlab/config.h"

#include <gtest/gtest.h>

namespace vk::gitlab {
namespace {

TEST(GitlabConfigTest, EmptyFileGivesDefaults) {
  auto config = ParseConfig("", "gitlab.toml");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->builds_dir, "/builds");
  EXPECT_EQ(config->cpus, 1u);
  EXPECT_EQ(config->max_jobs, 4u);
  EXPECT_TRUE(config->allowed_images.empty());
}

TEST(GitlabConfigTest, ReadsEveryKey) {
  auto config = ParseConfig(R"(
default_image = "debian:bookworm"
allowed_images = ["debian:*", "registry.example.com/ci/*"]
cpus = 2
max_cpus = 4
memory = "512M"
max_memory = "2G"
user = "build"
egress_allow = ["gitlab.example.com", "*.debian.org"]
max_jobs = 3
slot_wait = "5m"
stray_age = 7200
boot_timeout = "90s"
cold_boot = true
host_ports = [9418, 8080]
builds_dir = "/work"
cache_dir = "/srv/ci-cache"
artifacts_dir = "/srv/ci-artifacts"
)",
                            "gitlab.toml");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->default_image, "debian:bookworm");
  EXPECT_EQ(config->allowed_images.size(), 2u);
  EXPECT_EQ(config->cpus, 2u);
  EXPECT_EQ(config->max_cpus, 4u);
  EXPECT_EQ(config->memory_bytes, 512ull << 20);
  EXPECT_EQ(config->max_memory_bytes, 2ull << 30);
  EXPECT_EQ(config->user, "build");
  EXPECT_EQ(config->egress_allow[1], "*.debian.org");
  EXPECT_EQ(config->max_jobs, 3u);
  EXPECT_EQ(config->slot_wait, std::chrono::minutes(5));
  EXPECT_EQ(config->stray_age, std::chrono::hours(2));
  EXPECT_EQ(config->boot_timeout, std::chrono::seconds(90));
  EXPECT_TRUE(config->cold_boot);
  EXPECT_EQ(config->host_ports, (std::vector<uint16_t>{9418, 8080}));
  EXPECT_EQ(config->builds_dir, "/work");
  EXPECT_EQ(config->cache_dir, "/srv/ci-cache");
  EXPECT_EQ(config->artifacts_dir, "/srv/ci-artifacts");
}

TEST(GitlabConfigTest, RefusesWhatWouldLoosenOrConfuseLimits) {
  const char* bad[] = {
      "max_cpu = 8",                     // a typo must not be ignored
      "cpus = 0",                        // no VM has 0 CPUs
      "cpus = \"2\"",                    // wrong type
      "cpus = 3\nmax_cpus = 2",          // default above the cap
      "memory = \"lots\"",               // not a size
      "allowed_images = \"debian:*\"",   // a string, not a list
      "allowed_images = [\"\"]",         // an empty pattern
      "cache_dir = \"relative/cache\"",  // host dirs are absolute
      "builds_dir = \"/\"",              // the guest's root
      "stray_age = \"3 hours\"",         // not a duration
      "stray_age = -5",                  // negative
      "max_jobs = 100000",               // beyond any host
      "default_image = ",                // not TOML
  };
  for (const char* text : bad) {
    auto config = ParseConfig(text, "gitlab.toml");
    ASSERT_FALSE(config.ok()) << text;
    EXPECT_EQ(config.error().kind(), ErrorKind::kUsage) << text;
    EXPECT_NE(config.error().message().find("gitlab.toml"), std::string::npos)
        << config.error().message();
  }
}

TEST(GitlabConfigTest, Durations) {
  EXPECT_EQ(ParseDuration("90").value(), std::chrono::seconds(90));
  EXPECT_EQ(ParseDuration("45s").value(), std::chrono::seconds(45));
  EXPECT_EQ(ParseDuration("10m").value(), std::chrono::minutes(10));
  EXPECT_EQ(ParseDuration("3h").value(), std::chrono::hours(3));
  EXPECT_EQ(ParseDuration("2d").value(), std::chrono::hours(48));
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("h").ok());
  EXPECT_FALSE(ParseDuration("1y").ok());
  EXPECT_FALSE(ParseDuration("99999999999999999999").ok());
  EXPECT_FALSE(ParseDuration("400d").ok());
}

TEST(GitlabConfigTest, MissingNamedFileIsAnError) {
  auto config = LoadConfig("/nonexistent/gitlab.toml");
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().kind(), ErrorKind::kNotFound);
}

}  // namespace
}  // namespace vk::gitlab
