#include "gitlab/policy.h"

#include <gtest/gtest.h>

namespace vk::gitlab {
namespace {

TEST(GitlabPolicyTest, ImagePatterns) {
  Config config;
  EXPECT_TRUE(ImageAllowed("anything:latest", config));  // no list: any image
  config.default_image = "registry.local/base:1";
  config.allowed_images = {"debian:*", "registry.example.com/ci/*"};
  EXPECT_TRUE(ImageAllowed("debian:bookworm", config));
  EXPECT_TRUE(ImageAllowed("registry.example.com/ci/tools/node:20", config));
  EXPECT_TRUE(ImageAllowed("registry.local/base:1", config));  // the default
  EXPECT_FALSE(ImageAllowed("debian", config));
  EXPECT_FALSE(ImageAllowed("alpine:3.20", config));
  EXPECT_FALSE(ImageAllowed("registry.example.com/other/x:1", config));
  EXPECT_FALSE(ImageAllowed("evil.io/debian:12", config));
}

TEST(GitlabPolicyTest, EgressCoverage) {
  EXPECT_TRUE(EgressCovers("gitlab.example.com", "gitlab.example.com"));
  EXPECT_TRUE(EgressCovers("*.example.com", "gitlab.example.com"));
  EXPECT_TRUE(EgressCovers("*.example.com", "a.b.example.com"));
  EXPECT_TRUE(EgressCovers("*.example.com", "*.b.example.com"));
  EXPECT_TRUE(EgressCovers("*.Example.com", "GITLAB.example.COM"));
  EXPECT_FALSE(EgressCovers("*.example.com", "example.com"));
  EXPECT_FALSE(EgressCovers("*.example.com", "badexample.com"));
  EXPECT_FALSE(EgressCovers("example.com", "a.example.com"));
  EXPECT_FALSE(EgressCovers("10.0.0.0/8", "10.1.0.0/16"));
  EXPECT_TRUE(EgressCovers("10.0.0.0/8", "10.0.0.0/8"));
}

TEST(GitlabPolicyTest, JobsNarrowNeverWiden) {
  std::vector<std::string> admin = {"*.debian.org", "gitlab.example.com"};
  EXPECT_EQ(EgressFor(admin, "").value(), admin);
  EXPECT_EQ(EgressFor(admin, " deb.debian.org , gitlab.example.com").value(),
            (std::vector<std::string>{"deb.debian.org", "gitlab.example.com"}));
  auto wider = EgressFor(admin, "deb.debian.org,pypi.org");
  ASSERT_FALSE(wider.ok());
  EXPECT_EQ(wider.error().kind(), ErrorKind::kUsage);
  EXPECT_NE(wider.error().message().find("pypi.org"), std::string::npos);
  // No policy: the job may limit itself.
  EXPECT_EQ(EgressFor({}, "pypi.org").value(), std::vector<std::string>{"pypi.org"});
}

}  // namespace
}  // namespace vk::gitlab
