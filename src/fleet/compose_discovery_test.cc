#include "fleet/compose_discovery.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "base/testing/temp_dir.h"
#include "fleet/compose_file.h"
#include "fleet/testing/variables.h"

namespace vk::fleet {
namespace {

using testing::Lookup;
using testing::Vars;

class ComposeFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tree_.path().empty());
    project_ = tree_ / "shop";
    std::filesystem::create_directory(project_);
  }

  std::string Write(const std::string& name, const std::string& text) {
    std::string path = project_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
    return path;
  }
  Result<FleetSpec> Load(std::vector<std::string> files = {}, Vars vars = {},
                         std::string project_name = "") {
    ComposeOptions options;
    options.files = std::move(files);
    options.dir = project_;
    options.project_name = std::move(project_name);
    options.environment = Lookup(std::move(vars));
    return LoadComposeFile(options);
  }
  std::string ImageOf(const Result<FleetSpec>& fleet) {
    EXPECT_TRUE(fleet.ok()) << fleet.error().message();
    return fleet.ok() ? fleet->services.at(0).image : "";
  }

  vk::testing::TempTree tree_;
  std::string project_;
};

TEST_F(ComposeFilesTest, OverrideFileIsReadOnlyWithoutF) {
  std::string base = Write("compose.yaml", "services:\n  web: {image: base, user: base}\n");
  Write("compose.override.yaml", "services:\n  web: {image: override}\n");
  auto fleet = Load();
  EXPECT_EQ(ImageOf(fleet), "override");
  EXPECT_EQ(fleet->services[0].user, "base");  // merged, not replaced
  EXPECT_EQ(fleet->source, base + ", " + project_ + "/compose.override.yaml");
  EXPECT_EQ(ImageOf(Load({base})), "base");  // -f names every file
}

TEST_F(ComposeFilesTest, OverrideFileIsNamedLikeTheBase) {
  std::string base = Write("docker-compose.yml", "services:\n  web: {image: base}\n");
  Write("compose.override.yaml", "services:\n  web: {image: other-family}\n");
  EXPECT_EQ(ImageOf(Load()), "base");
  Write("docker-compose.override.yml", "services:\n  web: {image: yml}\n");
  EXPECT_EQ(ImageOf(Load()), "yml");
  Write("docker-compose.override.yaml", "services:\n  web: {image: yaml}\n");
  EXPECT_EQ(ImageOf(Load()), "yaml");  // .yaml first, as for the base
  EXPECT_EQ(FindOverrideFile(base), project_ + "/docker-compose.override.yaml");
  EXPECT_EQ(FindOverrideFile(project_ + "/compose.yml"), project_ + "/compose.override.yaml");
}

TEST_F(ComposeFilesTest, FilesMergeInTheOrderGiven) {
  std::string a = Write("a.yaml", "services:\n  web: {image: a, ports: ['1000:1']}\n");
  std::string b = Write("b.yaml", "services:\n  web: {image: b, ports: ['2000:2']}\n");
  auto ab = Load({a, b});
  EXPECT_EQ(ImageOf(ab), "b");
  EXPECT_EQ(ab->services[0].ports.at(0).published_first, 1000);
  auto ba = Load({b, a});
  EXPECT_EQ(ImageOf(ba), "a");
  EXPECT_EQ(ba->services[0].ports.at(0).published_first, 2000);
}

TEST_F(ComposeFilesTest, ComposeFileVariableListsFiles) {
  std::string a = Write("a.yaml", "services:\n  web: {image: a}\n");
  std::string b = Write("b.yaml", "services:\n  web: {image: b}\n");
  Write("compose.yaml", "services:\n  web: {image: found}\n");
  Write("compose.override.yaml", "services:\n  web: {image: override}\n");
  EXPECT_EQ(ImageOf(Load({}, {{"COMPOSE_FILE", a + ":" + b}})), "b");
  EXPECT_EQ(ImageOf(Load({}, {{"COMPOSE_FILE", b + ":" + a}})), "a");
  EXPECT_EQ(ImageOf(Load({}, {{"COMPOSE_FILE", a}})), "a");  // no override file then
  EXPECT_EQ(ImageOf(Load({}, {{"COMPOSE_FILE", b + ";" + a}, {"COMPOSE_PATH_SEPARATOR", ";"}})),
            "a");
  EXPECT_EQ(ImageOf(Load({a}, {{"COMPOSE_FILE", b}})), "a");  // -f wins
  EXPECT_EQ(ComposeFilePaths({}, project_, Lookup({{"COMPOSE_FILE", "x.yaml::y.yaml:"}})).value(),
            (std::vector<std::string>{"x.yaml", "y.yaml"}));
}

TEST_F(ComposeFilesTest, PathsResolveAgainstTheFirstFilesDirectory) {
  Write(".env", "TAG=from-dotenv\n");
  std::string a = Write("compose.yaml", "services:\n  web: {image: x}\n");
  std::string b = Write("deploy/prod.yaml",
                        "services:\n  web:\n    image: 'x:${TAG}'\n    volumes: [./data:/data]\n");
  Write("deploy/.env", "TAG=ignored\n");
  auto fleet = Load({a, b});
  ASSERT_TRUE(fleet.ok()) << fleet.error().message();
  EXPECT_EQ(fleet->project_dir, project_);
  EXPECT_EQ(fleet->services[0].image, "x:from-dotenv");  // one environment, the project's
  EXPECT_EQ(fleet->services[0].volumes.at(0).source, project_ + "/data");
}

TEST_F(ComposeFilesTest, ProjectNamePrecedence) {
  // directory < name: (the last file's) < COMPOSE_PROJECT_NAME < -p
  std::string plain = Write("plain.yaml", "services:\n  web: {image: x}\n");
  std::string a = Write("a.yaml", "name: from-a\nservices:\n  web: {image: x}\n");
  std::string b = Write("b.yaml", "name: from-b\n");
  EXPECT_EQ(Load({plain})->name, "shop");
  EXPECT_EQ(Load({plain, a})->name, "from-a");
  EXPECT_EQ(Load({a, b})->name, "from-b");
  Vars env = {{"COMPOSE_PROJECT_NAME", "from-env"}};
  EXPECT_EQ(Load({a, b}, env)->name, "from-env");
  EXPECT_EQ(Load({a, b}, env, "from-flag")->name, "from-flag");
  EXPECT_EQ(Load({plain}, {}, "from-flag")->name, "from-flag");
  auto bad = Load({a}, env, "Not Valid");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("--project-name: invalid fleet name \"Not Valid\""),
            std::string::npos)
      << bad.error().message();
}

TEST_F(ComposeFilesTest, ABadOverrideFileIsNamed) {
  Write("compose.yaml", "services:\n  web: {image: x}\n");
  std::string override_file = Write("compose.override.yaml", "services:\n  web:\n    imagee: y\n");
  auto fleet = Load();
  ASSERT_FALSE(fleet.ok());
  EXPECT_NE(fleet.error().message().find(override_file + ":3:5: unknown key \"imagee\""),
            std::string::npos)
      << fleet.error().message();
  Write("compose.override.yaml", "services:\n  web: [\n");
  fleet = Load();
  ASSERT_FALSE(fleet.ok());
  EXPECT_EQ(fleet.error().message().rfind(override_file + ":", 0), 0u) << fleet.error().message();
  EXPECT_NE(fleet.error().message().find("invalid YAML"), std::string::npos);
}

TEST_F(ComposeFilesTest, AMissingFileIsNamed) {
  std::string a = Write("a.yaml", "services:\n  web: {image: x}\n");
  auto fleet = Load({a, project_ + "/missing.yaml"});
  ASSERT_FALSE(fleet.ok());
  EXPECT_EQ(fleet.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(fleet.error().message().find(project_ + "/missing.yaml"), std::string::npos);
}

}  // namespace
}  // namespace vk::fleet
