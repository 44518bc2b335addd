#include "capi/port_map_spec.h"

#include <gtest/gtest.h>

namespace vk::capi {
namespace {

TEST(PortMapSpecTest, ReadsHostThenGuest) {
  auto mapping = ParsePortMapping("8080:80");
  ASSERT_TRUE(mapping.ok()) << mapping.error().message();
  EXPECT_EQ(mapping->host, 8080);
  EXPECT_EQ(mapping->guest, 80);
  EXPECT_EQ(*ParsePortMapping("0:65535"), (PortMapping{0, 65535}));
}

TEST(PortMapSpecTest, RefusesOtherShapes) {
  for (const char* text :
       {"", "80", ":80", "80:", "80:80:80", "a:80", "80:b", "65536:80", "80:65536", "-1:80",
        "+80:80", " 80:80", "80:80 ", "0x50:80", "99999999999999999999:1"}) {
    auto parsed = ParsePortMapping(text);
    ASSERT_FALSE(parsed.ok()) << "'" << text << "'";
    EXPECT_EQ(parsed.error().errno_value(), EINVAL);
  }
}

TEST(PortMapSpecTest, ListKeepsOrderAndRefusesRepeatedPorts) {
  auto map = ParsePortMap({"8080:80", "8443:443"});
  ASSERT_TRUE(map.ok());
  EXPECT_EQ(*map, (std::vector<PortMapping>{{8080, 80}, {8443, 443}}));
  EXPECT_FALSE(ParsePortMap({"8080:80", "8080:81"}).ok());  // host twice
  EXPECT_FALSE(ParsePortMap({"8080:80", "8081:80"}).ok());  // guest twice
  EXPECT_FALSE(ParsePortMap({"8080:80", "junk"}).ok());
  EXPECT_TRUE(ParsePortMap({}).ok());
}

}  // namespace
}  // namespace vk::capi
