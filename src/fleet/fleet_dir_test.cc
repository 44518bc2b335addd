// FleetDir's view of what a fleet started: what `vk fleet -p NAME down`
// and `logs` go by without a compose file. Runs in a private XDG_RUNTIME_DIR.
#include "fleet/fleet_dir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "base/testing/scoped_env.h"
#include "base/testing/temp_dir.h"

namespace vk::fleet {
namespace {

TEST(FleetDirTest, LoggedServicesAreTheServicesWithALog) {
  testing::TempTree tree;
  ASSERT_FALSE(tree.path().empty());
  testing::ScopedEnv runtime("XDG_RUNTIME_DIR", tree.path());
  auto dir = FleetDir::Named("shop");
  ASSERT_TRUE(dir.ok()) << dir.error().message();
  EXPECT_TRUE(dir->LoggedServices().empty());  // no directory: nothing started
  ASSERT_TRUE(dir->Create().ok());
  std::string logs = dir->path() + "/logs/";
  for (const char* name : {"web.log", "db.log", "notes.txt", "bad name.log", ".log"})
    ASSERT_TRUE(tree.Write(logs.substr(tree.path().size() + 1) + name, "x\n")) << name;
  ASSERT_EQ(::symlink("/etc/passwd", (logs + "link.log").c_str()), 0);
  ASSERT_EQ(::symlink("/nonexistent", (logs + "dangling.log").c_str()), 0);
  EXPECT_EQ(dir->LoggedServices(), (std::vector<std::string>{"db", "web"}));
  EXPECT_EQ(dir->ServiceLog("web"), logs + "web.log");
}

}  // namespace
}  // namespace vk::fleet
