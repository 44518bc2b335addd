#include "fleet/fleet_flags.h"

#include <gtest/gtest.h>

namespace vk::fleet {
namespace {

TEST(FleetFlagsTest, BuildsTheSameSpecAsACompose) {
  FleetFlags flags;
  flags.vm = "debian:bookworm";
  flags.workdir = "src";
  flags.services = {
      "redis:redis:7",
      "db:localhost:5000/postgres:16:port=127.0.0.1:5433:5432:env=POSTGRES_PASSWORD=a:b=c"
      ":restart=on-failure:3:cpus=2:mem=1g:user=postgres:workdir=/var/lib:depends=redis"
      ":volume=./data:/data:ro",
      "worker:app@sha256:abcd:autostart=false:env=URL=http://db:5432/x",
  };
  flags.hosts = {"gateway=192.168.127.1", "printer=10.0.0.9"};
  auto fleet = FleetFromFlags(flags, "/home/u/My Shop");
  ASSERT_TRUE(fleet.ok()) << fleet.error().message();
  EXPECT_EQ(fleet->name, "myshop");
  EXPECT_EQ(fleet->source, "command line");
  ASSERT_EQ(fleet->services.size(), 4u);

  const ServiceSpec& dev = *fleet->Find("dev");
  EXPECT_TRUE(dev.dev);
  EXPECT_EQ(dev.image, "debian:bookworm");
  EXPECT_EQ(dev.volumes, (std::vector<BindMount>{{"/home/u/My Shop/src", "/work", false}}));
  EXPECT_EQ(dev.working_dir, "/work");
  EXPECT_EQ(fleet->DevService(), &dev);

  EXPECT_EQ(fleet->Find("redis")->image, "redis:7");
  const ServiceSpec& db = *fleet->Find("db");
  EXPECT_EQ(db.image, "localhost:5000/postgres:16");
  EXPECT_EQ(db.ports, (std::vector<PortMapping>{{5432, 5432, 5433, 5433, "127.0.0.1", "tcp"}}));
  EXPECT_EQ(db.environment, (std::map<std::string, std::string>{{"POSTGRES_PASSWORD", "a:b=c"}}));
  EXPECT_EQ(db.restart, (RestartPolicy{RestartMode::kOnFailure, 3}));
  EXPECT_EQ(db.cpus, 2);
  EXPECT_EQ(db.memory_bytes, 1u << 30);
  EXPECT_EQ(db.user, "postgres");
  EXPECT_EQ(db.working_dir, "/var/lib");
  EXPECT_EQ(db.depends_on.at(0).service, "redis");
  EXPECT_EQ(db.volumes, (std::vector<BindMount>{{"/home/u/My Shop/data", "/data", true}}));

  const ServiceSpec& worker = *fleet->Find("worker");
  EXPECT_EQ(worker.image, "app@sha256:abcd");
  EXPECT_FALSE(worker.autostart);
  EXPECT_EQ(worker.environment.at("URL"), "http://db:5432/x");
  EXPECT_EQ(fleet->hosts, (std::map<std::string, std::string>{{"gateway", "192.168.127.1"},
                                                              {"printer", "10.0.0.9"}}));
}

TEST(FleetFlagsTest, RefusesBadFlags) {
  struct Case {
    FleetFlags flags;
    const char* message;
  } cases[] = {
      {{}, "a fleet needs --vm IMAGE or at least one --service"},
      {{.workdir = "."}, "--workdir needs --vm"},
      {{.services = {"redis"}}, "--service redis: write NAME:IMAGE"},
      {{.services = {"redis:"}}, "--service redis:: write NAME:IMAGE"},
      {{.services = {"r:redis:prot=80"}}, "unknown setting \"prot\" (did you mean port?)"},
      {{.services = {"r:redis:port=99999"}}, "--service r:redis:port=99999: port: port \"99999\""},
      {{.services = {"r:redis:restart=sometimes"}}, "restart: invalid restart policy"},
      {{.services = {"r:redis:env=NOVALUE"}}, "env: env=NOVALUE: write env=NAME=VALUE"},
      {{.services = {"r:redis:volume=data:/data"}}, "named volumes (\"data\") are not supported"},
      {{.services = {"r:redis:depends=nope"}},
       "service \"r\" depends on undefined service \"nope\""},
      {{.services = {"a:x:depends=b", "b:x:depends=a"}}, "depends_on cycle: a -> b -> a"},
      {{.vm = "debian", .services = {"dev:redis"}}, "the name \"dev\" is taken by the --vm dev VM"},
      {{.services = {"a:x:port=8080:80", "b:y:port=8080:81"}},
       "host port 8080/tcp is published by both"},
      {{.services = {"a:x"}, .hosts = {"gw"}}, "--hosts gw: write NAME=IP"},
      {{.services = {"a:x"}, .hosts = {"gw=999.1.1.1"}}, "is not an IP address"},
      {{.services = {"a b:x"}}, "invalid VM name 'a b'"},
  };
  for (const Case& c : cases) {
    auto fleet = FleetFromFlags(c.flags, "/home/u/proj");
    ASSERT_FALSE(fleet.ok()) << c.message;
    EXPECT_NE(fleet.error().message().find(c.message), std::string::npos)
        << fleet.error().message() << "\nwant: " << c.message;
    EXPECT_EQ(fleet.error().kind(), ErrorKind::kUsage);
  }
}

TEST(FleetFlagsTest, ANameGivenWinsOverTheDirectory) {
  FleetFlags flags;
  flags.services = {"redis:redis:7"};
  flags.name = "cache";
  auto fleet = FleetFromFlags(flags, "/");  // "/" makes no name
  ASSERT_TRUE(fleet.ok()) << fleet.error().message();
  EXPECT_EQ(fleet->name, "cache");
  flags.name = "Cache";
  EXPECT_FALSE(FleetFromFlags(flags, "/home/u/shop").ok());  // checked, not rewritten
}

}  // namespace
}  // namespace vk::fleet
