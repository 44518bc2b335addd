#include "fleet/fleet_yaml.h"

#include <gtest/gtest.h>

#include "fleet/compose_file.h"
#include "fleet/fleet_flags.h"

namespace vk::fleet {
namespace {

Result<FleetSpec> Reparse(const std::string& yaml) {
  return ParseComposeText(yaml, "config.yaml", "/elsewhere",
                          [](std::string_view) { return std::nullopt; }, {"*"});
}

// What config prints is a compose file that means the same fleet.
void ExpectSameServices(FleetSpec want, FleetSpec got) {
  ASSERT_EQ(want.services.size(), got.services.size());
  for (size_t i = 0; i < want.services.size(); ++i) {
    ServiceSpec& w = want.services[i];
    ServiceSpec& g = got.services[i];
    if (w.hostname.empty()) w.hostname = w.name;  // config fills the default
    w.where = g.where = "";
    for (Dependency& d : w.depends_on) d.where = "";
    for (Dependency& d : g.depends_on) d.where = "";
    EXPECT_EQ(w, g) << w.name << "\n" << FleetToYaml(want);
  }
}

TEST(FleetYamlTest, ConfigOutputReadsBackAsTheSameFleet) {
  const char* compose = R"(
name: shop
services:
  web:
    image: "nginx:1"
    command: ["sh", "-c", "echo 'a b' $$HOME"]
    entrypoint: ""
    environment: {A: "1", B: "no", C: "", D: "null", E: "x: y", F: "#hash"}
    ports: ["8080:80", "127.0.0.1:9000-9001:9000-9001/udp", "3000", "[::1]:7000:7000"]
    volumes: ["/src:/app:ro", "/data:/data"]
    working_dir: /app
    user: "1000"
    depends_on:
      db: {condition: service_healthy, restart: true}
      job: {condition: service_completed_successfully, required: false}
    healthcheck:
      test: [CMD, curl, -f, "http://localhost"]
      interval: 1h2m3.5s
      timeout: 250ms
      retries: 0
      start_period: 90s
    restart: on-failure:2
    cpus: 0.5
    mem_limit: 768m
    profiles: [front]
    x-virtkit: {autostart: false, vm-symlinks: ["/bin/vk-agent:/usr/bin/virtctl"]}
  db:
    build: {context: /ctx, dockerfile: Db.Dockerfile, args: {V: "2", W: "true"}, target: run}
    healthcheck: {test: "pg_isready", timeout: 1us}
    restart: unless-stopped
  job:
    image: job
    healthcheck: {disable: true}
    restart: always
  dev:
    image: dev
    hostname: devbox
    healthcheck: {interval: 5s}
    x-virtkit: {dev: true}
)";
  auto fleet = ParseComposeText(compose, "compose.yaml", "/proj",
                                [](std::string_view) { return std::nullopt; }, {"front"});
  ASSERT_TRUE(fleet.ok()) << fleet.error().message();
  std::string yaml = FleetToYaml(*fleet);
  auto again = Reparse(yaml);
  ASSERT_TRUE(again.ok()) << again.error().message() << "\n" << yaml;
  EXPECT_EQ(again->name, "shop");
  EXPECT_TRUE(again->warnings.empty()) << again->warnings.at(0);
  ExpectSameServices(*fleet, *again);
  EXPECT_NE(yaml.find("interval: 1h2m3.5s"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("timeout: 250ms"), std::string::npos) << yaml;
  // Timings the file leaves unset stay unset: the image may give them.
  EXPECT_NE(yaml.find("healthcheck:\n      interval: 5s\n    restart:"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("B: \"no\""), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("restart: \"no\""), std::string::npos) << yaml;  // the dev VM's default
  EXPECT_EQ(FleetToYaml(*again), yaml);
}

TEST(FleetYamlTest, ServicesAreSortedAndFlagHostsKept) {
  FleetFlags flags{
      .vm = "debian", .services = {"zeta:z", "alpha:a:port=80"}, .hosts = {"gw=10.0.0.1"}};
  auto fleet = FleetFromFlags(flags, "/p/demo");
  ASSERT_TRUE(fleet.ok()) << fleet.error().message();
  std::string yaml = FleetToYaml(*fleet);
  EXPECT_EQ(yaml.rfind("name: demo\nservices:\n  alpha:\n", 0), 0u) << yaml;
  EXPECT_LT(yaml.find("  dev:\n"), yaml.find("  zeta:\n"));
  EXPECT_NE(yaml.find("x-virtkit:\n  hosts:\n    gw: 10.0.0.1\n"), std::string::npos) << yaml;
  auto again = Reparse(yaml);
  ASSERT_TRUE(again.ok()) << again.error().message();
  ExpectSameServices(*fleet, *again);
}

}  // namespace
}  // namespace vk::fleet
