#include "build/build_config.h"

#include <gtest/gtest.h>

namespace vk::build {
namespace {

TEST(BuildConfigTest, ReadsWhatDockerWritesAndWritesItBack) {
  auto config = ParseBuildConfig(R"({"architecture":"amd64","os":"linux",
    "config":{"Env":["PATH=/bin","A=1"],"Entrypoint":["/e"],"Cmd":["c"],"WorkingDir":"/w",
      "User":"u","Labels":{"k":"v"},"ExposedPorts":{"80/tcp":{}},"Volumes":{"/d":{}},
      "StopSignal":"SIGINT","Shell":["/bin/bash","-c"],"OnBuild":["RUN x"],
      "Healthcheck":{"Test":["CMD","true"],"Interval":1000,"Retries":2},"Unknown":1},
    "rootfs":{"type":"layers","diff_ids":["sha256:ab"]},
    "history":[{"created":"t","created_by":"RUN x","empty_layer":true}]})");
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->Env("A"), "1");
  EXPECT_EQ(config->Shell(), (std::vector<std::string>{"/bin/bash", "-c"}));
  EXPECT_EQ(config->healthcheck->retries, 2);
  EXPECT_EQ(config->history.at(0).created_by, "RUN x");
  auto again = ParseBuildConfig(SerializeBuildConfig(*config));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *config);
  EXPECT_EQ(SerializeBuildConfig(*again), SerializeBuildConfig(*config));  // one config, one digest
}

TEST(BuildConfigTest, SetEnvReplacesInPlace) {
  BuildConfig config;
  config.SetEnv("A", "1");
  config.SetEnv("B", "2");
  config.SetEnv("A", "3");
  EXPECT_EQ(config.env, (std::vector<std::string>{"A=3", "B=2"}));
  EXPECT_FALSE(config.Env("AB").has_value());
  EXPECT_EQ(config.Shell(), (std::vector<std::string>{"/bin/sh", "-c"}));
}

TEST(BuildConfigTest, RefusesWrongTypesAndDeepNesting) {
  for (const char* bad : {R"({"config":{"Env":"PATH=/bin"}})", R"({"config":{"Labels":{"a":1}}})",
                          R"({"history":[1]})", R"([])", "not json"}) {
    auto config = ParseBuildConfig(bad);
    ASSERT_FALSE(config.ok()) << bad;
    EXPECT_EQ(config.error().kind(), ErrorKind::kImage);
  }
  EXPECT_FALSE(ParseBuildConfig(std::string(100, '[')).ok());
}

}  // namespace
}  // namespace vk::build
