#include "fleet/compose_merge.h"

#include <gtest/gtest.h>

#include <map>

#include "fleet/compose_file.h"
#include "fleet/testing/variables.h"

namespace vk::fleet {
namespace {

using Strings = std::vector<std::string>;

using testing::Lookup;
using testing::Vars;

// compose.yaml, then compose.override.yaml over it, read into a fleet.
Result<FleetSpec> Merge(const std::string& base, const std::string& over, Vars vars = {}) {
  return ParseComposeTexts({{"compose.yaml", base}, {"compose.override.yaml", over}}, "/proj",
                           Lookup(std::move(vars)), {});
}

ServiceSpec Web(const std::string& base, const std::string& over, Vars vars = {}) {
  auto fleet = Merge(base, over, std::move(vars));
  EXPECT_TRUE(fleet.ok()) << fleet.error().message();
  if (!fleet.ok() || fleet->Find("web") == nullptr) return {};
  return *fleet->Find("web");
}

std::string ErrorOf(const std::string& base, const std::string& over) {
  auto fleet = Merge(base, over);
  if (fleet.ok()) return "(no error)";
  EXPECT_EQ(fleet.error().kind(), ErrorKind::kUsage) << fleet.error().message();
  return fleet.error().message();
}

// The merged YAML, for keys a FleetSpec does not keep (dns, tmpfs, ...).
YAML::Node MergedYaml(const std::string& base, const std::string& over) {
  ComposeReader reader(NodeOrigins("compose.yaml"), Lookup({{"DNS", "1.1.1.1"}}));
  YAML::Node base_root = YAML::Load(base);
  YAML::Node over_root = YAML::Load(over);
  reader.origins().AddDocument("compose.override.yaml", over_root);
  auto merged = MergeComposeDocuments({base_root, over_root}, reader);
  EXPECT_TRUE(merged.ok()) << merged.error().message();
  return merged.ok() ? *merged : YAML::Node();
}

Strings Scalars(const YAML::Node& list) {
  Strings out;
  for (const YAML::Node& item : list) out.push_back(item.Scalar());
  return out;
}

TEST(ComposeMergeTest, ListsAreAppendedWithoutDuplicates) {
  YAML::Node merged = MergedYaml(
      "services:\n  web:\n    image: x\n    dns: 8.8.8.8\n    expose: ['80', '443']\n"
      "    tmpfs: [/run]\n    external_links: [db]\n    group_add: [audio]\n",
      "services:\n  web:\n    dns: [1.1.1.1, 8.8.8.8, '${DNS}']\n    expose: ['443', '8080']\n"
      "    tmpfs: [/run, /tmp]\n    external_links: [db, cache]\n    group_add: [audio]\n");
  const YAML::Node web = merged["services"]["web"];
  // One string is a list of one; entries are equal once interpolated, and
  // the later one takes the earlier one's place.
  EXPECT_EQ(Scalars(web["dns"]), (Strings{"8.8.8.8", "${DNS}"}));
  EXPECT_EQ(Scalars(web["expose"]), (Strings{"80", "443", "8080"}));
  EXPECT_EQ(Scalars(web["tmpfs"]), (Strings{"/run", "/tmp"}));
  EXPECT_EQ(Scalars(web["external_links"]), (Strings{"db", "cache"}));
  // Other lists are appended as they are (compose's sequence rule).
  EXPECT_EQ(Scalars(web["group_add"]), (Strings{"audio", "audio"}));
}

TEST(ComposeMergeTest, PortsAreAppendedWithoutDuplicates) {
  ServiceSpec web =
      Web("services:\n  web:\n    image: x\n    ports: ['8080:80', '${PORT}:9000']\n",
          "services:\n  web:\n    ports: ['9001:9000', '8080:80']\n", {{"PORT", "9001"}});
  ASSERT_EQ(web.ports.size(), 2u);  // equal once interpolated: one
  EXPECT_EQ(web.ports[0].published_first, 8080);
  EXPECT_EQ(web.ports[1].published_first, 9001);

  // Long syntax: one per {host_ip, published, target, protocol}.
  web =
      Web("services:\n  web:\n    image: x\n    ports:\n      - {target: 80, published: 8080}\n"
          "      - {target: 80, published: 8081}\n",
          "services:\n  web:\n    ports:\n      - {target: 80, published: '8080', protocol: tcp}\n"
          "      - {target: 80, published: 8080, protocol: udp}\n");
  ASSERT_EQ(web.ports.size(), 3u);
  EXPECT_EQ(web.ports[0].published_first, 8080);
  EXPECT_EQ(web.ports[1].published_first, 8081);
  EXPECT_EQ(web.ports[2].protocol, "udp");
}

TEST(ComposeMergeTest, EnvironmentMergesByKeyInEitherForm) {
  // A list over a mapping, and a mapping over a list.
  ServiceSpec web =
      Web("services:\n  web:\n    image: x\n    environment: {A: base, B: base, C: base}\n",
          "services:\n  web:\n    environment: ['B=over', 'D=${D_VALUE}', 'E=a=b', 'F=$$HOME']\n",
          {{"D_VALUE", "from-env"}, {"HOME", "/home/u"}});
  EXPECT_EQ(web.environment, (std::map<std::string, std::string>{{"A", "base"},
                                                                 {"B", "over"},
                                                                 {"C", "base"},
                                                                 {"D", "from-env"},
                                                                 {"E", "a=b"},
                                                                 {"F", "$HOME"}}));
  web = Web("services:\n  web:\n    image: x\n    environment: [A=base, B=base, SHELL_VAR]\n",
            "services:\n  web:\n    environment: {A: over, E: new}\n", {{"SHELL_VAR", "shell"}});
  EXPECT_EQ(web.environment,
            (std::map<std::string, std::string>{
                {"A", "over"}, {"B", "base"}, {"E", "new"}, {"SHELL_VAR", "shell"}}));
  // build.args by key as well.
  web = Web("services:\n  web:\n    build: {context: ., args: [V=1, W=1]}\n",
            "services:\n  web:\n    build: {args: {V: '2'}}\n");
  ASSERT_TRUE(web.build);
  EXPECT_EQ(web.build->args, (std::map<std::string, std::string>{{"V", "2"}, {"W", "1"}}));
}

TEST(ComposeMergeTest, KeyValueListsMergeByKey) {
  YAML::Node merged =
      MergedYaml("services:\n  web:\n    labels: [a=1, b=1]\n    extra_hosts: ['db:10.0.0.1']\n",
                 "services:\n  web:\n    labels: {b: '2'}\n    extra_hosts: ['db=10.0.0.2', "
                 "'cache:10.0.0.3']\n");
  const YAML::Node web = merged["services"]["web"];
  EXPECT_EQ(web["labels"]["a"].Scalar(), "1");
  EXPECT_EQ(web["labels"]["b"].Scalar(), "2");
  EXPECT_EQ(web["extra_hosts"].size(), 2u);
  EXPECT_EQ(web["extra_hosts"]["db"].Scalar(), "10.0.0.2");
}

TEST(ComposeMergeTest, VolumesMergeByTarget) {
  ServiceSpec web =
      Web("services:\n  web:\n    image: x\n    volumes:\n      - ./original:/foo\n"
          "      - ./original:/bar\n      - {type: bind, source: ./long, target: /long}\n",
          "services:\n  web:\n    volumes:\n      - ./local:/bar:ro\n      - ./local:/baz\n"
          "      - ./short:/long\n");
  ASSERT_EQ(web.volumes.size(), 4u);
  EXPECT_EQ(web.volumes[0], (BindMount{"/proj/original", "/foo", false}));
  EXPECT_EQ(web.volumes[1], (BindMount{"/proj/local", "/bar", true}));  // in /bar's place
  EXPECT_EQ(web.volumes[2], (BindMount{"/proj/short", "/long", false}));
  EXPECT_EQ(web.volumes[3], (BindMount{"/proj/local", "/baz", false}));
}

TEST(ComposeMergeTest, CommandsAreReplacedNotMerged) {
  ServiceSpec web =
      Web("services:\n  web:\n    image: x\n    command: [echo, foo]\n    entrypoint: [/a, -x]\n"
          "    healthcheck:\n      test: [CMD, curl, -f, http://localhost]\n      interval: 5s\n",
          "services:\n  web:\n    command: echo bar\n    entrypoint: [/b]\n"
          "    healthcheck:\n      test: [CMD-SHELL, pg_isready]\n      retries: 7\n");
  EXPECT_EQ(web.command, (Strings{"echo", "bar"}));
  EXPECT_EQ(web.entrypoint, (Strings{"/b"}));
  ASSERT_TRUE(web.healthcheck);
  EXPECT_EQ(web.healthcheck->kind, HealthTestKind::kCmdShell);
  EXPECT_EQ(web.healthcheck->test, (Strings{"pg_isready"}));
  // The rest of healthcheck is a mapping, merged.
  EXPECT_EQ(web.healthcheck->interval, std::chrono::seconds(5));
  EXPECT_EQ(web.healthcheck->retries, 7);
}

TEST(ComposeMergeTest, DependsOnMergesByService) {
  const std::string others = "  db: {image: x}\n  cache: {image: x}\n  queue: {image: x}\n";
  ServiceSpec web = Web(
      "services:\n  web:\n    image: x\n    depends_on:\n      db: {condition: service_healthy}\n"
      "      queue: {condition: service_healthy}\n" +
          others,
      "services:\n  web:\n    depends_on:\n      db: {required: false}\n"
      "      cache: {condition: service_completed_successfully}\n");
  ASSERT_EQ(web.depends_on.size(), 3u);
  EXPECT_EQ(web.depends_on[0].service, "db");
  EXPECT_EQ(web.depends_on[0].condition, DependCondition::kHealthy);  // merged, not replaced
  EXPECT_FALSE(web.depends_on[0].required);
  EXPECT_EQ(web.depends_on[1].service, "queue");
  EXPECT_EQ(web.depends_on[2].service, "cache");
  EXPECT_EQ(web.depends_on[2].condition, DependCondition::kCompletedSuccessfully);
  EXPECT_EQ(web.depends_on[2].where, "compose.override.yaml:5");

  // A list entry is {condition: service_started} (compose-go's reading):
  // restating a dependency as a list entry resets its condition.
  web =
      Web("services:\n  web:\n    image: x\n    depends_on: {db: {condition: service_healthy}}\n" +
              others,
          "services:\n  web:\n    depends_on: [db]\n");
  ASSERT_EQ(web.depends_on.size(), 1u);
  EXPECT_EQ(web.depends_on[0].condition, DependCondition::kStarted);
  web = Web("services:\n  web:\n    image: x\n    depends_on: [db]\n" + others,
            "services:\n  web:\n    depends_on: [cache, db]\n");
  ASSERT_EQ(web.depends_on.size(), 2u);
  EXPECT_EQ(web.depends_on[0].service, "db");
  EXPECT_EQ(web.depends_on[1].service, "cache");
  EXPECT_EQ(web.depends_on[1].where, "compose.override.yaml:3");
}

TEST(ComposeMergeTest, MappingsMergeRecursively) {
  auto fleet = Merge(
      "name: base\nservices:\n  web:\n    image: x\n    user: base\n"
      "    deploy: {resources: {limits: {cpus: '1'}}}\n    x-virtkit: {dev: true}\n",
      "name: over\nservices:\n  web:\n    user: over\n"
      "    deploy: {resources: {limits: {memory: 1g}}}\n    x-virtkit: {control: true}\n"
      "  db: {image: postgres}\n");
  ASSERT_TRUE(fleet.ok()) << fleet.error().message();
  EXPECT_EQ(fleet->name, "over");  // scalars are replaced
  EXPECT_EQ(fleet->source, "compose.yaml, compose.override.yaml");
  ASSERT_EQ(fleet->services.size(), 2u);  // a service only the override has is added
  const ServiceSpec& web = *fleet->Find("web");
  EXPECT_EQ(web.image, "x");
  EXPECT_EQ(web.user, "over");
  EXPECT_EQ(web.cpus, 1);
  EXPECT_EQ(web.memory_bytes, 1u << 30);
  EXPECT_TRUE(web.dev);
  EXPECT_TRUE(web.control);
}

TEST(ComposeMergeTest, NullResetAndOverride) {
  ServiceSpec web =
      Web("services:\n  web:\n    image: x\n    user: base\n    ports: ['80:80']\n"
          "    environment: {A: '1', B: '2'}\n    volumes: ['/a:/a']\n",
          "services:\n  web:\n    user:\n    ports: !reset []\n    environment: {A: !reset null}\n"
          "    volumes: !override ['/b:/b']\n");
  EXPECT_EQ(web.user, "base");  // a null leaves the earlier value
  EXPECT_TRUE(web.ports.empty());
  EXPECT_EQ(web.environment, (std::map<std::string, std::string>{{"B", "2"}}));
  ASSERT_EQ(web.volumes.size(), 1u);
  EXPECT_EQ(web.volumes[0].target, "/b");
}

TEST(ComposeMergeTest, MergeKeysApplyWithinEachFile) {
  ServiceSpec web = Web("services:\n  web:\n    image: x\n    environment: {A: '1'}\n",
                        "x-env: &env\n  environment: {B: '2'}\n  user: anchored\n"
                        "services:\n  web:\n    <<: *env\n    user: explicit\n");
  EXPECT_EQ(web.environment, (std::map<std::string, std::string>{{"A", "1"}, {"B", "2"}}));
  EXPECT_EQ(web.user, "explicit");
}

// Each file is small, but its aliases repeat a mapping of ten keys five
// levels deep: a million values, merged again for every repetition.
TEST(ComposeMergeTest, AliasesCannotMakeMergingExplode) {
  std::string bomb =
      "x-0: &l0 {k0: x, k1: x, k2: x, k3: x, k4: x, k5: x, k6: x, k7: x, k8: x, k9: x}\n";
  for (int level = 1; level <= 5; ++level) {
    std::string keys;
    for (int k = 0; k < 10; ++k)
      keys += (k ? ", k" : "k") + std::to_string(k) + ": *l" + std::to_string(level - 1);
    bomb += "x-" + std::to_string(level) + ": &l" + std::to_string(level) + " {" + keys + "}\n";
  }
  std::string message = ErrorOf(bomb + "services:\n  web: {image: x}\n", bomb);
  EXPECT_NE(message.find("compose.override.yaml:"), std::string::npos) << message;
  EXPECT_NE(message.find("values to merge: do YAML aliases repeat a large part?"),
            std::string::npos)
      << message;
}

TEST(ComposeMergeTest, ErrorsNameTheFileTheyAreIn) {
  struct Case {
    std::string base, over, message;
  } cases[] = {
      {"services:\n  web: {image: x}\n", "services:\n  web:\n    imagee: y\n",
       "compose.override.yaml:3:5: unknown key \"imagee\" in service \"web\""},
      {"services:\n  web: {image: x}\n", "services:\n  web:\n    depends_on: [dbb]\n",
       "compose.override.yaml:3: service \"web\" depends on undefined service \"dbb\""},
      {"services:\n  web: {image: x}\n", "services:\n  web:\n    user: ${USER:?who runs it}\n",
       "compose.override.yaml:3:11: required variable USER is missing a value: who runs it"},
      {"services:\n  web:\n    image: x\n    ports: ['80:80']\n",
       "services:\n  web:\n    ports: {web: 80}\n",
       "compose.override.yaml:3:12: services.web.ports: a mapping cannot be merged into a list "
       "(compose.yaml:4:12): write both the same way"},
      {"services:\n  web:\n    image: x\n    environment: [A=1]\n",
       "services:\n  web:\n    environment: ['=1']\n",
       "compose.override.yaml:3:19: expected KEY=VALUE in services.web.environment"},
      {"services:\n  web:\n    image: x\n    depends_on: [db]\n  db: {image: x}\n",
       "services:\n  web:\n    depends_on: [{db: x}]\n",
       "compose.override.yaml:3:18: services.web.depends_on must be a string, not a mapping"},
      {"services:\n  web:\n    image: x\n", "services:\n  web:\n    image: [a]\n",
       "compose.override.yaml:3:12: image must be a string"},
      {"services:\n  web:\n    image: x\n    restart: never\n", "services:\n  web: {user: u}\n",
       "compose.yaml:4:14: invalid restart policy"},
      {"services:\n  web: {image: x}\n", "- a list\n", "compose.override.yaml: not a compose file"},
      {"services:\n  web: {image: x}\n", "services:\n  web: {image: x\n",
       "compose.override.yaml:3:1: invalid YAML"},
  };
  for (const Case& c : cases) {
    std::string message = ErrorOf(c.base, c.over);
    EXPECT_NE(message.find(c.message), std::string::npos)
        << "base:\n"
        << c.base << "override:\n"
        << c.over << "got: " << message << "\nwant: " << c.message;
  }
}

}  // namespace
}  // namespace vk::fleet
