#include "fleet/compose_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "base/remove_tree.h"
#include "fleet/testing/variables.h"

namespace vk::fleet {
namespace {

using std::chrono::seconds;

using testing::Lookup;
using testing::Vars;

Result<FleetSpec> Parse(std::string_view text, Vars vars = {},
                        std::vector<std::string> profiles = {}) {
  return ParseComposeText(text, "compose.yaml", "/proj", Lookup(std::move(vars)), profiles);
}

std::string ErrorOf(std::string_view text, Vars vars = {}) {
  auto fleet = Parse(text, std::move(vars));
  if (fleet.ok()) return "(no error)";
  EXPECT_EQ(fleet.error().kind(), ErrorKind::kUsage) << fleet.error().message();
  return fleet.error().message();
}

constexpr const char kEveryKey[] = R"(
name: demo
x-common: &common
  restart: unless-stopped
services:
  web:
    <<: *common
    image: "registry.local:5000/web:${TAG:-1.0}"
    command: python -m http.server "8000" --bind '0.0.0.0'
    entrypoint: ["/entry.sh", "--verbose"]
    environment:
      MODE: production
      PORT: 8000
      FROM_ENV:
      NOT_SET:
    ports:
      - "8080:8000"
      - 127.0.0.1:9000-9001:9000-9001/udp
      - 3000
      - target: 443
        published: "8443"
        host_ip: 0.0.0.0
        protocol: tcp
        mode: host
    volumes:
      - ./src:/app:ro
      - ~/cache:/cache
      - type: bind
        source: ../shared
        target: /shared
        read_only: true
        bind:
          create_host_path: true
    working_dir: /app
    user: "1000:1000"
    hostname: www
    depends_on:
      db:
        condition: service_healthy
        restart: true
      cache:
        condition: service_started
        required: false
      migrate:
        condition: service_completed_successfully
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost:8000"]
      interval: 1m30s
      timeout: 10s
      retries: 5
      start_period: 40s
      start_interval: 500ms
    cpus: 1.5
    mem_limit: 512m
    profiles: [frontend]
    x-virtkit:
      autostart: false
      vm-symlinks: ["/usr/local/bin/vk-agent:/usr/local/bin/virtctl"]
  db:
    image: postgres:16
    environment:
      - POSTGRES_PASSWORD=secret
      - POSTGRES_DB=app=1
      - FROM_ENV
    healthcheck:
      test: pg_isready -U postgres
    restart: "on-failure:3"
    deploy:
      resources:
        limits:
          cpus: "2"
          memory: 1G
  cache:
    image: redis:7
    command: ["redis-server", "--save", ""]
    entrypoint: ""
    restart: always
    healthcheck:
      test: ["NONE"]
  migrate:
    build:
      context: ./migrations
      dockerfile: Migrate.Dockerfile
      args:
        VERSION: "3"
        FROM_ENV:
      target: final
    depends_on: [db]
    restart: "no"
  dev:
    build: .
    x-virtkit:
      dev: true
)";

TEST(FleetComposeTest, ReadsEveryKey) {
  auto fleet =
      Parse(kEveryKey, {{"FROM_ENV", "shell"}, {"HOME", "/home/u"}, {"TAG", "2.1"}}, {"frontend"});
  ASSERT_TRUE(fleet.ok()) << fleet.error().message();
  EXPECT_EQ(fleet->name, "demo");
  EXPECT_EQ(fleet->source, "compose.yaml");
  ASSERT_EQ(fleet->services.size(), 5u);
  std::vector<std::string> names;
  for (const ServiceSpec& s : fleet->services) names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"cache", "db", "dev", "migrate", "web"}));  // sorted

  const ServiceSpec& web = *fleet->Find("web");
  EXPECT_EQ(web.image, "registry.local:5000/web:2.1");
  EXPECT_EQ(web.command,
            (std::vector<std::string>{"python", "-m", "http.server", "8000", "--bind", "0.0.0.0"}));
  EXPECT_EQ(web.entrypoint, (std::vector<std::string>{"/entry.sh", "--verbose"}));
  EXPECT_EQ(web.environment, (std::map<std::string, std::string>{
                                 {"FROM_ENV", "shell"}, {"MODE", "production"}, {"PORT", "8000"}}));
  ASSERT_EQ(web.ports.size(), 4u);
  EXPECT_EQ(web.ports[0], (PortMapping{8000, 8000, 8080, 8080, "", "tcp"}));
  EXPECT_EQ(web.ports[1], (PortMapping{9000, 9001, 9000, 9001, "127.0.0.1", "udp"}));
  EXPECT_EQ(web.ports[2], (PortMapping{3000, 3000, 0, 0, "", "tcp"}));
  EXPECT_EQ(web.ports[3], (PortMapping{443, 443, 8443, 8443, "0.0.0.0", "tcp"}));
  ASSERT_EQ(web.volumes.size(), 3u);
  EXPECT_EQ(web.volumes[0], (BindMount{"/proj/src", "/app", true}));
  EXPECT_EQ(web.volumes[1].target, "/cache");
  EXPECT_EQ(web.volumes[2], (BindMount{"/shared", "/shared", true}));
  EXPECT_EQ(web.working_dir, "/app");
  EXPECT_EQ(web.user, "1000:1000");
  EXPECT_EQ(web.hostname, "www");
  ASSERT_EQ(web.depends_on.size(), 3u);
  EXPECT_EQ(web.depends_on[0].service, "db");
  EXPECT_EQ(web.depends_on[0].condition, DependCondition::kHealthy);
  EXPECT_TRUE(web.depends_on[0].restart);
  EXPECT_EQ(web.depends_on[0].where, "compose.yaml:38");
  EXPECT_EQ(web.depends_on[1].condition, DependCondition::kStarted);
  EXPECT_FALSE(web.depends_on[1].required);
  EXPECT_EQ(web.depends_on[2].condition, DependCondition::kCompletedSuccessfully);
  ASSERT_TRUE(web.healthcheck);
  EXPECT_EQ(web.healthcheck->kind, HealthTestKind::kCmd);
  EXPECT_EQ(web.healthcheck->test,
            (std::vector<std::string>{"curl", "-f", "http://localhost:8000"}));
  EXPECT_EQ(web.healthcheck->interval, seconds(90));
  EXPECT_EQ(web.healthcheck->timeout, seconds(10));
  EXPECT_EQ(web.healthcheck->retries, 5);
  EXPECT_EQ(web.healthcheck->start_period, seconds(40));
  EXPECT_EQ(web.healthcheck->start_interval, std::chrono::milliseconds(500));
  EXPECT_EQ(web.restart.mode, RestartMode::kUnlessStopped);  // from the merge key
  EXPECT_EQ(web.cpus, 1.5);
  EXPECT_EQ(web.memory_bytes, 512u << 20);
  EXPECT_EQ(web.profiles, (std::vector<std::string>{"frontend"}));
  EXPECT_FALSE(web.autostart);
  EXPECT_FALSE(web.dev);
  EXPECT_EQ(web.vm_symlinks,
            (std::vector<VmSymlink>{{"/usr/local/bin/vk-agent", "/usr/local/bin/virtctl"}}));
  EXPECT_EQ(web.where, "compose.yaml:6");

  const ServiceSpec& db = *fleet->Find("db");
  EXPECT_EQ(db.environment,
            (std::map<std::string, std::string>{
                {"FROM_ENV", "shell"}, {"POSTGRES_DB", "app=1"}, {"POSTGRES_PASSWORD", "secret"}}));
  EXPECT_EQ(db.healthcheck->kind, HealthTestKind::kCmdShell);
  EXPECT_EQ(db.healthcheck->test, (std::vector<std::string>{"pg_isready -U postgres"}));
  // Unset: the image's HEALTHCHECK or docker's defaults fill them at run time.
  EXPECT_EQ(db.healthcheck->interval, seconds(0));
  EXPECT_EQ(db.healthcheck->retries, 0);
  EXPECT_EQ(db.restart, (RestartPolicy{RestartMode::kOnFailure, 3}));
  EXPECT_EQ(db.cpus, 2);
  EXPECT_EQ(db.memory_bytes, 1u << 30);
  EXPECT_TRUE(db.autostart);

  const ServiceSpec& cache = *fleet->Find("cache");
  EXPECT_EQ(cache.command, (std::vector<std::string>{"redis-server", "--save", ""}));
  EXPECT_EQ(cache.entrypoint, std::vector<std::string>{});  // "" clears the image's
  EXPECT_EQ(cache.restart.mode, RestartMode::kAlways);
  EXPECT_EQ(cache.healthcheck->kind, HealthTestKind::kNone);
  EXPECT_FALSE(db.command.has_value());

  const ServiceSpec& migrate = *fleet->Find("migrate");
  ASSERT_TRUE(migrate.build);
  EXPECT_EQ(*migrate.build, (BuildSpec{"/proj/migrations",
                                       "Migrate.Dockerfile",
                                       {{"FROM_ENV", "shell"}, {"VERSION", "3"}},
                                       "final"}));
  EXPECT_TRUE(migrate.image.empty());
  EXPECT_EQ(migrate.restart.mode, RestartMode::kNo);
  EXPECT_EQ(migrate.depends_on.at(0).service, "db");

  const ServiceSpec& dev = *fleet->Find("dev");
  EXPECT_EQ(dev.build->context, "/proj");
  EXPECT_EQ(dev.build->dockerfile, "Dockerfile");
  EXPECT_TRUE(dev.dev);
  EXPECT_EQ(fleet->DevService(), &dev);

  // Only the long port's `mode` and the bind's create_host_path were ignored.
  EXPECT_EQ(
      fleet->warnings,
      (std::vector<std::string>{
          "ignored: ports.mode (ingress and host modes are swarm's; vk forwards from the host)",
          "ignored: volumes.bind.create_host_path (a missing host directory is an error "
          "when the VM starts)"}));
}

TEST(FleetComposeTest, EnvironmentFormsAgree) {
  const char* forms[] = {
      "services:\n  a:\n    image: x\n    environment:\n      A: '1'\n      B: two\n      C: ''\n",
      "services:\n  a:\n    image: x\n    environment:\n      - A=1\n      - B=two\n      - C=\n",
      "services:\n  a:\n    image: x\n    environment: [A=1, B=two, C=]\n",
      "services:\n  a:\n    image: x\n    environment: {A: 1, B: two, C: ''}\n",
  };
  for (const char* text : forms) {
    auto fleet = Parse(text);
    ASSERT_TRUE(fleet.ok()) << text << fleet.error().message();
    EXPECT_EQ(fleet->services[0].environment,
              (std::map<std::string, std::string>{{"A", "1"}, {"B", "two"}, {"C", ""}}))
        << text;
  }
}

TEST(FleetComposeTest, DependsOnForms) {
  auto list =
      Parse("services:\n  a: {image: x, depends_on: [b, c]}\n  b: {image: x}\n  c: {image: x}\n");
  ASSERT_TRUE(list.ok()) << list.error().message();
  const auto& deps = list->Find("a")->depends_on;
  ASSERT_EQ(deps.size(), 2u);
  EXPECT_EQ(deps[0], (Dependency{"b", DependCondition::kStarted, true, false, "compose.yaml:2"}));
  EXPECT_EQ(deps[1].service, "c");

  auto map = Parse(
      "services:\n  a:\n    image: x\n    depends_on:\n      b:\n      c: {condition: "
      "service_healthy}\n"
      "  b: {image: x}\n  c: {image: x}\n");
  ASSERT_TRUE(map.ok()) << map.error().message();
  EXPECT_EQ(map->Find("a")->depends_on[0].condition, DependCondition::kStarted);
  EXPECT_EQ(map->Find("a")->depends_on[1].condition, DependCondition::kHealthy);
  EXPECT_EQ(map->Find("a")->depends_on[1].where, "compose.yaml:6");
}

TEST(FleetComposeTest, InterpolatesValuesButNotKeys) {
  auto fleet = Parse(
      "name: ${PROJECT:-shop}\n"
      "services:\n"
      "  web:\n"
      "    image: ${IMAGE:?set IMAGE}\n"
      "    command: echo $$HOME ${GREETING-hi}\n"
      "    environment:\n"
      "      $KEY: literal\n"
      "      URL: http://${HOST}:${PORT:-80}/\n"
      "      EMPTY: ${EMPTY:-fallback}\n"
      "    ports: [\"${PUBLISH}:80\"]\n",
      {{"IMAGE", "nginx"}, {"HOST", "db"}, {"EMPTY", ""}, {"PUBLISH", "8081"}});
  ASSERT_TRUE(fleet.ok()) << fleet.error().message();
  EXPECT_EQ(fleet->name, "shop");
  const ServiceSpec& s = fleet->services[0];
  EXPECT_EQ(s.environment.at("$KEY"), "literal");
  EXPECT_EQ(s.image, "nginx");
  EXPECT_EQ(s.command, (std::vector<std::string>{"echo", "$HOME", "hi"}));
  EXPECT_EQ(s.environment.at("URL"), "http://db:80/");
  EXPECT_EQ(s.environment.at("EMPTY"), "fallback");
  EXPECT_EQ(s.ports[0].published_first, 8081);
}

TEST(FleetComposeTest, ErrorsNameFileLineAndColumn) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"services:\n  web:\n    imagee: nginx\n",
       "compose.yaml:3:5: unknown key \"imagee\" in service \"web\" (did you mean image?)"},
      {"services:\n  web:\n    image: nginx\n    helthcheck:\n      test: true\n",
       "compose.yaml:4:5: unknown key \"helthcheck\" in service \"web\" (did you mean "
       "healthcheck?)"},
      {"services:\n  web:\n    image: x\n    healthcheck:\n      test: [CMD, x]\n      intervall: "
       "5s\n",
       "compose.yaml:6:7: unknown key \"intervall\" in healthcheck of service \"web\" (did you "
       "mean interval?)"},
      {"servics:\n  web: {image: x}\n",
       "compose.yaml:1:1: unknown top-level key \"servics\" (did you mean services?)"},
      {"services:\n  web:\n    image: x\n    frobnicate: 1\n",
       "compose.yaml:4:5: unknown key \"frobnicate\" in service \"web\"\n"},
      {"services:\n  web:\n    command: x\n",
       "compose.yaml:2: service \"web\" has neither image nor build"},
      {"services:\n  web:\n\n    image: x\n    depends_on: [dbb]\n  db: {image: y}\n",
       "compose.yaml:5: service \"web\" depends on undefined service \"dbb\" (did you mean db?)"},
      {"services:\n  web:\n    image: x\n    ports: [\"80:99999\"]\n",
       "compose.yaml:4:13: port \"80:99999\": invalid target port \"99999\": ports are 1-65535"},
      {"services:\n  web:\n    image: x\n    healthcheck:\n      test: [CMD, x]\n      interval: "
       "5\n",
       "compose.yaml:6:17: healthcheck.interval: invalid duration \"5\""},
      {"services:\n  web:\n    image: x\n    healthcheck:\n      timeout: -1s\n",
       "compose.yaml:5:16: healthcheck.timeout must not be negative"},
      {"services:\n  web:\n    image: x\n    restart: sometimes\n",
       "compose.yaml:4:14: invalid restart policy \"sometimes\""},
      {"services:\n  web:\n    image: x\n    mem_limit: lots\n",
       "compose.yaml:4:16: invalid memory size \"lots\""},
      {"services:\n  web:\n    image: x\n    cpus: -1\n", "compose.yaml:4:11: invalid cpus \"-1\""},
      {"services:\n  web:\n    image: ${IMAGE:?the image to serve}\n",
       "compose.yaml:3:12: required variable IMAGE is missing a value: the image to serve"},
      {"services:\n  web:\n    image: x\n    command: echo $1\n",
       "compose.yaml:4:14: invalid interpolation format \"echo $1\""},
      {"services:\n  web:\n    image: [x]\n",
       "compose.yaml:3:12: image must be a string, not a list"},
      {"services:\n  web:\n    image: x\n    image: y\n",
       "compose.yaml:4:5: duplicate key \"image\" in service web (first at compose.yaml:3:5)"},
      {"services:\n  web:\n    image: x\n  bad name:\n    image: y\n",
       "compose.yaml:4:3: service: invalid VM name 'bad name'"},
      {"services:\n  web:\n    image: x\n    volumes: [data:/var/lib/data]\n",
       "compose.yaml:4:15: named volumes (\"data\") are not supported yet"},
      {"services:\n  web:\n    image: x\n    volumes: [/var/lib/data]\n",
       "compose.yaml:4:15: anonymous volumes are not supported yet"},
      {"services:\n  web:\n    image: x\n    volumes:\n      - type: volume\n        source: data\n"
       "        target: /data\n",
       "compose.yaml:5:9: named volumes (\"data\") are not supported yet"},
      {"services:\n  web:\n    image: x\n    secrets: [token]\n",
       "compose.yaml:4:5: secrets: secrets are not supported yet"},
      {"services:\n  web: {image: x}\nsecrets:\n  token: {file: ./t}\n",
       "compose.yaml:3:1: secrets: secrets are not supported yet"},
      {"services:\n  web: {image: x}\nconfigs: {}\n",
       "compose.yaml:3:1: configs: configs are not supported yet"},
      {"services:\n  web:\n    image: x\n    deploy:\n      replicas: 3\n",
       "compose.yaml:5:17: deploy.replicas: more than one VM per service is not supported yet"},
      {"services:\n  web:\n    image: x\n    depends_on:\n      db: {condition: service_ready}\n"
       "  db: {image: y}\n",
       "compose.yaml:5:23: unknown condition \"service_ready\""},
      {"services:\n  web:\n    image: x\n    healthcheck:\n      test: [RUN, x]\n",
       "compose.yaml:5:13: healthcheck.test must start with CMD, CMD-SHELL or NONE"},
      {"services:\n  web:\n    image: x\n    mem_limit: 1g\n    deploy:\n      resources:\n"
       "        limits: {memory: 2g}\n",
       "compose.yaml:6:7: mem_limit and deploy.resources.limits.memory differ"},
      {"services:\n  web:\n    image: x\n    x-virtkit:\n      devv: true\n",
       "compose.yaml:5:7: unknown key \"devv\" in x-virtkit of service \"web\" (did you mean "
       "dev?)"},
      {"services:\n  web:\n    image: x\n    x-virtkit: {dev: maybe}\n",
       "compose.yaml:4:22: x-virtkit.dev must be true or false"},
      {"services:\n  a:\n    image: x\n    x-virtkit: {dev: true}\n  b:\n    image: x\n"
       "    x-virtkit: {dev: true}\n",
       "compose.yaml:5: services \"a\" and \"b\" are both x-virtkit dev: a fleet has one dev VM"},
      {"services:\n  a:\n    image: x\n    ports: [8080:80]\n  b:\n    image: y\n    ports: "
       "[\"127.0.0.1:8079-8080:80-81\"]\n",
       "compose.yaml:5: host port 8079/tcp is published by both \"a\" and \"b\""},
      {"services:\n  web:\n    image: x\n    hostname: -bad-\n",
       "compose.yaml:4:15: invalid hostname"},
      {"name: My App\nservices:\n  web: {image: x}\n",
       "compose.yaml:1:7: invalid fleet name \"My App\""},
      {"services: {}\n", "compose.yaml: no services defined"},
      {"- just\n- a list\n", "compose.yaml: not a compose file"},
      {"services:\n  web:\n    image: x\n   bad: indent\n", "compose.yaml:4:"},
      {"services:\n  web: {image: x\n", "compose.yaml:3:1:"},
      {"services:\n  web:\n    image: x\n    ports: 80\n",
       "compose.yaml:4:12: ports must be a list"},
  };
  for (const Case& c : cases) {
    std::string message = ErrorOf(c.text) + "\n";
    EXPECT_NE(message.find(c.message), std::string::npos)
        << "input:\n"
        << c.text << "got: " << message << "want: " << c.message;
  }
}

TEST(FleetComposeTest, DetectsDependencyCycles) {
  EXPECT_NE(
      ErrorOf("services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [c]}\n"
              "  c: {image: x, depends_on: [a]}\n")
          .find("compose.yaml:2: depends_on cycle: a -> b -> c -> a"),
      std::string::npos);
  EXPECT_NE(ErrorOf("services:\n  a: {image: x, depends_on: [a]}\n")
                .find("compose.yaml:2: service \"a\" depends on itself"),
            std::string::npos);
  // A diamond is not a cycle.
  EXPECT_TRUE(
      Parse("services:\n  a: {image: x, depends_on: [b, c]}\n  b: {image: x, depends_on: [d]}\n"
            "  c: {image: x, depends_on: [d]}\n  d: {image: x}\n")
          .ok());
}

TEST(FleetComposeTest, IgnoredKeysAreReportedOnceEach) {
  auto fleet = Parse(
      "version: '3.8'\n"
      "services:\n"
      "  a:\n"
      "    image: x\n"
      "    privileged: true\n"
      "    cap_add: [NET_ADMIN]\n"
      "    network_mode: host\n"
      "    container_name: a1\n"
      "    x-custom: anything\n"
      "    networks: [default]\n"
      "  b:\n"
      "    image: y\n"
      "    privileged: true\n"
      "    logging: {driver: none}\n"
      "    networks: [backend]\n"
      "networks:\n"
      "  backend: {}\n");
  ASSERT_TRUE(fleet.ok()) << fleet.error().message();
  std::vector<std::string> keys;
  for (const std::string& warning : fleet->warnings) {
    ASSERT_EQ(warning.rfind("ignored: ", 0), 0u) << warning;
    keys.push_back(warning.substr(9, warning.find(' ', 9) - 9));
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"version", "privileged", "cap_add", "network_mode",
                                            "container_name", "logging", "networks"}));
  EXPECT_EQ(fleet->warnings[1],
            "ignored: privileged (a VM has its own kernel; the VM boundary replaces container "
            "isolation)");
}

TEST(FleetComposeTest, WarnsAboutUnsetVariablesOnce) {
  auto fleet = Parse("services:\n  a:\n    image: x:$TAG\n  b:\n    image: y:${TAG}\n");
  ASSERT_TRUE(fleet.ok()) << fleet.error().message();
  EXPECT_EQ(fleet->services[0].image, "x:");
  EXPECT_EQ(fleet->warnings,
            (std::vector<std::string>{"variable TAG is not set: substituting an empty string"}));
}

TEST(FleetComposeTest, ProfilesSelectServices) {
  const char* text =
      "services:\n"
      "  app: {image: x, depends_on: {debug: {required: false}}}\n"
      "  debug: {image: x, profiles: [debug]}\n"
      "  tools: {image: x, profiles: [tools, debug], depends_on: [debug]}\n";
  auto plain = Parse(text);
  ASSERT_TRUE(plain.ok()) << plain.error().message();
  ASSERT_EQ(plain->services.size(), 1u);
  EXPECT_TRUE(plain->services[0].depends_on.empty());  // optional and disabled: dropped
  auto debug = Parse(text, {}, {"debug"});
  ASSERT_TRUE(debug.ok());
  EXPECT_EQ(debug->services.size(), 3u);
  auto all = Parse(text, {{"COMPOSE_PROFILES", "*"}});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->services.size(), 3u);
  auto tools = Parse(text, {}, {"tools"});
  ASSERT_FALSE(tools.ok());
  EXPECT_NE(tools.error().message().find(
                "compose.yaml:4: service \"tools\" depends on \"debug\", which is not enabled: add "
                "--profile debug"),
            std::string::npos)
      << tools.error().message();
}

TEST(FleetComposeTest, MergeKeysAndAnchors) {
  auto fleet = Parse(
      "x-base: &base\n  image: base\n  restart: always\n  environment: {A: '1'}\n"
      "x-more: &more\n  user: nobody\n  restart: 'no'\n"
      "services:\n"
      "  a:\n    <<: [*base, *more]\n    environment: {B: '2'}\n"
      "  b:\n    <<: *base\n    image: own\n");
  ASSERT_TRUE(fleet.ok()) << fleet.error().message();
  const ServiceSpec& a = *fleet->Find("a");
  EXPECT_EQ(a.image, "base");
  EXPECT_EQ(a.restart.mode, RestartMode::kAlways);  // the first merged map wins
  EXPECT_EQ(a.user, "nobody");
  EXPECT_EQ(a.environment, (std::map<std::string, std::string>{{"B", "2"}}));  // explicit wins
  EXPECT_EQ(fleet->Find("b")->image, "own");
}

class FleetComposeDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path().string();
    std::string pattern = root_ + "/vk-fleet-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    project_ = dir_ + "/My Project.v2";
    std::filesystem::create_directory(project_);
  }
  // The one guarded delete: only inside the temp directory, no symlink followed.
  void TearDown() override { (void)RemoveTreeWithin(root_, dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(project_ + "/" + name) << text;
  }
  Result<FleetSpec> Load(Vars vars = {}) {
    ComposeOptions options;
    options.dir = project_;
    options.environment = Lookup(std::move(vars));
    return LoadComposeFile(options);
  }

  std::string root_, dir_, project_;
};

TEST_F(FleetComposeDirTest, FindsFilesInComposeOrder) {
  EXPECT_EQ(FindComposeFile(project_).error().kind(), ErrorKind::kNotFound);
  const char* names[] = {"docker-compose.yml", "docker-compose.yaml", "compose.yml",
                         "compose.yaml"};
  for (const char* name : names) {
    Write(name, "services: {}");
    auto found = FindComposeFile(project_);
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(*found, project_ + "/" + name);  // each new one takes precedence
  }
}

TEST_F(FleetComposeDirTest, ReadsDotenvAndEnvFiles) {
  Write(".env", "TAG=from-dotenv\nSHARED=dotenv\nAPP_ENV=app.env\n");
  Write("app.env", "A=from-file\nB=from-file\nREF=${TAG}\n");
  Write("more.env", "B=from-more\n");
  Write("compose.yaml",
        "services:\n"
        "  web:\n"
        "    image: web:${TAG}\n"
        "    environment:\n"
        "      B: explicit\n"
        "      SHARED:\n"
        "    env_file:\n"
        "      - ${APP_ENV}\n"
        "      - path: ./more.env\n"
        "      - path: ./optional.env\n"
        "        required: false\n");
  auto fleet = Load({{"SHARED", "shell"}});
  ASSERT_TRUE(fleet.ok()) << fleet.error().message();
  EXPECT_EQ(fleet->name, "myprojectv2");  // the directory name, normalised
  EXPECT_EQ(fleet->project_dir, project_);
  const ServiceSpec& web = fleet->services[0];
  EXPECT_EQ(web.image, "web:from-dotenv");
  EXPECT_EQ(
      web.environment,
      (std::map<std::string, std::string>{
          {"A", "from-file"}, {"B", "explicit"}, {"REF", "from-dotenv"}, {"SHARED", "shell"}}));
  EXPECT_EQ(web.env_files,
            (std::vector<std::string>{project_ + "/app.env", project_ + "/more.env"}));
}

TEST_F(FleetComposeDirTest, MissingEnvFileNamesTheLine) {
  Write("compose.yaml", "services:\n  web:\n    image: x\n    env_file: missing.env\n");
  auto fleet = Load();
  ASSERT_FALSE(fleet.ok());
  EXPECT_EQ(fleet.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(fleet.error().message().find("compose.yaml:4:15: env file: " + project_ +
                                         "/missing.env: No such file"),
            std::string::npos)
      << fleet.error().message();
}

TEST_F(FleetComposeDirTest, ProjectNameFromEnvironmentWins) {
  Write("compose.yaml", "name: fromfile\nservices:\n  web: {image: x}\n");
  EXPECT_EQ(Load()->name, "fromfile");
  EXPECT_EQ(Load({{"COMPOSE_PROJECT_NAME", "fromenv"}})->name, "fromenv");
}

}  // namespace
}  // namespace vk::fleet
