#include "image/docker_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "image/test_support.h"

namespace vk::image {
namespace {

using json = nlohmann::json;

// A stand-in for docker-credential-pass & co: answers `get` for two servers,
// fails in the ways real helpers do, and logs every call.
constexpr const char* kFakeHelper = R"(#!/bin/sh
input=$(cat)
printf '%s %s\n' "$1" "$input" >> "$(dirname "$0")/helper.log"
case "$1 $input" in
  "get ghcr.io")
    printf '{"ServerURL":"ghcr.io","Username":"helper-user","Secret":"helper-pass"}\n' ;;
  "get https://index.docker.io/v1/")
    printf '{"ServerURL":"%s","Username":"<token>","Secret":"refresh"}' "$input" ;;
  "get broken.example") echo 'not json' ;;
  "get fails.example") echo 'keychain locked' >&2; exit 3 ;;
  get*|erase*) echo 'credentials not found in native keychain'; exit 1 ;;
esac
)";

class DockerConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"DOCKER_CONFIG", "PATH", "HOME"}) {
      const char* value = getenv(name);
      saved_env_.emplace_back(name, value ? std::optional<std::string>(value) : std::nullopt);
    }
    config_dir_ = dir_ / "docker";  // created by WriteConfig or by StoreCredentials
    setenv("DOCKER_CONFIG", config_dir_.c_str(), 1);
    bin_dir_ = dir_ / "bin";
    ASSERT_EQ(mkdir(bin_dir_.c_str(), 0755), 0);
    setenv("PATH", (bin_dir_ + ":" + saved_env_[1].second.value_or("/usr/bin:/bin")).c_str(), 1);
    std::string helper = bin_dir_ + "/docker-credential-test";
    std::ofstream(helper) << kFakeHelper;
    ASSERT_EQ(chmod(helper.c_str(), 0755), 0);
  }

  void TearDown() override {
    for (const auto& [name, value] : saved_env_) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }

  std::string ConfigPath() const { return config_dir_ + "/config.json"; }

  void WriteConfig(const std::string& text) {
    mkdir(config_dir_.c_str(), 0700);
    std::ofstream(ConfigPath()) << text;
  }
  void WriteConfig(const json& config) { WriteConfig(config.dump()); }

  json ReadConfig() const { return json::parse(std::ifstream(ConfigPath())); }

  std::string HelperLog() const {
    std::stringstream text;
    text << std::ifstream(bin_dir_ + "/helper.log").rdbuf();
    return text.str();
  }

  // Lookup that must succeed and find something.
  Credentials MustFind(std::string_view registry) {
    auto found = LookupCredentials(registry);
    EXPECT_TRUE(found.ok()) << found.error().message();
    if (!found.ok() || !*found) {
      ADD_FAILURE() << "no credentials for " << registry;
      return {};
    }
    return **found;
  }

  void ExpectNone(std::string_view registry) {
    auto found = LookupCredentials(registry);
    ASSERT_TRUE(found.ok()) << found.error().message();
    EXPECT_FALSE(found->has_value()) << registry << " -> " << (*found)->username;
  }

  std::string LookupError(std::string_view registry) {
    auto found = LookupCredentials(registry);
    EXPECT_FALSE(found.ok());
    return found.ok() ? "" : found.error().message();
  }

  testing::TempDir dir_;
  std::string config_dir_, bin_dir_;
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_env_;
};

json Auth(const std::string& base64) { return {{"auth", base64}}; }

TEST_F(DockerConfigTest, PathFromEnvironment) {
  EXPECT_EQ(DockerConfigPath(), config_dir_ + "/config.json");
  unsetenv("DOCKER_CONFIG");
  setenv("HOME", "/home/someone", 1);
  EXPECT_EQ(DockerConfigPath(), "/home/someone/.docker/config.json");
  setenv("DOCKER_CONFIG", "", 1);  // empty counts as unset
  EXPECT_EQ(DockerConfigPath(), "/home/someone/.docker/config.json");
}

TEST_F(DockerConfigTest, NoConfigFileMeansNoCredentials) { ExpectNone("docker.io"); }

TEST_F(DockerConfigTest, EmptyConfigFileMeansNoCredentials) {
  WriteConfig(std::string("\n"));
  ExpectNone("docker.io");
}

TEST_F(DockerConfigTest, AuthsBase64) {
  // "user:pa:ss" -- only the first colon separates the user.
  WriteConfig(json{{"auths", {{"localhost:5000", Auth("dXNlcjpwYTpzcw==")}}}});
  Credentials c = MustFind("localhost:5000");
  EXPECT_EQ(c.username, "user");
  EXPECT_EQ(c.password, "pa:ss");
  EXPECT_EQ(c.identity_token, "");
  ExpectNone("localhost:5001");
  ExpectNone("localhost");
}

TEST_F(DockerConfigTest, IdentityToken) {
  WriteConfig(json{{"auths", {{"ghcr.io", {{"auth", "dTo="}, {"identitytoken", "tok"}}}}}});
  Credentials c = MustFind("ghcr.io");
  EXPECT_EQ(c.username, "u");
  EXPECT_EQ(c.password, "");
  EXPECT_EQ(c.identity_token, "tok");
}

TEST_F(DockerConfigTest, UrlFormKeysMatchByHost) {
  WriteConfig(json{{"auths",
                    {{"https://localhost:5000/v1/", Auth("YTpi")},
                     {"http://Registry.Example.com", Auth("Yzpk")}}}});
  EXPECT_EQ(MustFind("localhost:5000").username, "a");
  EXPECT_EQ(MustFind("registry.example.com").password, "d");
  EXPECT_EQ(MustFind("https://localhost:5000").username, "a");
}

TEST_F(DockerConfigTest, DockerHubAliases) {
  for (const char* key : {"https://index.docker.io/v1/", "index.docker.io", "docker.io",
                          "registry-1.docker.io", "https://index.docker.io/v2/"}) {
    SCOPED_TRACE(key);
    WriteConfig(json{{"auths", {{key, Auth("aHViOnB3")}}}});
    EXPECT_EQ(MustFind("docker.io").username, "hub");
    EXPECT_EQ(MustFind("index.docker.io").password, "pw");
    ExpectNone("ghcr.io");
  }
  // docker's own key wins over the others.
  WriteConfig(json{
      {"auths", {{"docker.io", Auth("YTpi")}, {"https://index.docker.io/v1/", Auth("Yzpk")}}}});
  EXPECT_EQ(MustFind("docker.io").username, "c");
}

TEST_F(DockerConfigTest, EntriesWithoutSecretsAreNoCredentials) {
  // What docker leaves in auths when a credsStore holds the secret.
  WriteConfig(json{{"auths", {{"ghcr.io", json::object()}}}, {"psFormat", "table"}});
  ExpectNone("ghcr.io");
}

TEST_F(DockerConfigTest, PlainUsernamePasswordFields) {
  WriteConfig(json{{"auths", {{"quay.io", {{"username", "q"}, {"password", "p"}}}}}});
  EXPECT_EQ(MustFind("quay.io").password, "p");
}

TEST_F(DockerConfigTest, MalformedConfigIsAnError) {
  WriteConfig(std::string("{not json"));
  EXPECT_NE(LookupError("ghcr.io").find(ConfigPath()), std::string::npos);
  WriteConfig(std::string("[]"));
  EXPECT_NE(LookupError("ghcr.io").find("not a JSON object"), std::string::npos);
  WriteConfig(json{{"auths", {{"ghcr.io", Auth("not base64!")}}}});
  EXPECT_NE(LookupError("ghcr.io").find("base64"), std::string::npos);
  WriteConfig(json{{"auths", {{"ghcr.io", Auth("bm9jb2xvbg==")}}}});  // "nocolon"
  EXPECT_NE(LookupError("ghcr.io").find("user:password"), std::string::npos);
  WriteConfig(json{{"auths", {{"ghcr.io", "string"}}}});
  EXPECT_NE(LookupError("ghcr.io").find("auths[\"ghcr.io\"]"), std::string::npos);
}

TEST_F(DockerConfigTest, CredHelpersWinOverAuths) {
  WriteConfig(
      json{{"credHelpers", {{"ghcr.io", "test"}}}, {"auths", {{"ghcr.io", Auth("ZmlsZTpmaWxl")}}}});
  Credentials c = MustFind("ghcr.io");
  EXPECT_EQ(c.username, "helper-user");
  EXPECT_EQ(c.password, "helper-pass");
  EXPECT_EQ(HelperLog(), "get ghcr.io\n");
}

TEST_F(DockerConfigTest, HelperNotFoundDoesNotFallBackToAuths) {
  // As docker: the helper is the source of truth for its registries.
  WriteConfig(
      json{{"credHelpers", {{"quay.io", "test"}}}, {"auths", {{"quay.io", Auth("ZmlsZTpmaWxl")}}}});
  ExpectNone("quay.io");
  EXPECT_EQ(HelperLog(), "get quay.io\n");
}

TEST_F(DockerConfigTest, DockerHubHelperGetsDockerServerUrlAndToken) {
  WriteConfig(json{{"credHelpers", {{"docker.io", "test"}}}});
  Credentials c = MustFind("docker.io");
  EXPECT_EQ(c.username, "");
  EXPECT_EQ(c.password, "");
  EXPECT_EQ(c.identity_token, "refresh");
  EXPECT_EQ(HelperLog(), "get https://index.docker.io/v1/\n");
  ExpectNone("ghcr.io");  // no helper for it, no auths
}

TEST_F(DockerConfigTest, CredsStoreAndPrecedence) {
  WriteConfig(json{{"credsStore", "test"}});
  EXPECT_EQ(MustFind("ghcr.io").username, "helper-user");
  // credHelpers[registry] is asked before credsStore (which is missing here).
  WriteConfig(json{{"credsStore", "absent"}, {"credHelpers", {{"ghcr.io", "test"}}}});
  EXPECT_EQ(MustFind("ghcr.io").username, "helper-user");
  EXPECT_NE(LookupError("quay.io").find("docker-credential-absent"), std::string::npos);
}

TEST_F(DockerConfigTest, MissingHelperNamesBinaryAndConfig) {
  WriteConfig(json{{"credsStore", "desktop"}});
  std::string error = LookupError("docker.io");
  EXPECT_NE(error.find("docker-credential-desktop"), std::string::npos) << error;
  EXPECT_NE(error.find(ConfigPath()), std::string::npos) << error;
}

TEST_F(DockerConfigTest, HelperFailures) {
  WriteConfig(json{{"credsStore", "test"}});
  EXPECT_NE(LookupError("broken.example").find("not a JSON object"), std::string::npos);
  std::string error = LookupError("fails.example");
  EXPECT_NE(error.find("exit status 3: keychain locked"), std::string::npos) << error;
  WriteConfig(json{{"credsStore", "../bin/test"}});
  EXPECT_NE(LookupError("ghcr.io").find("invalid credential helper name"), std::string::npos);
}

TEST_F(DockerConfigTest, StoreEraseRoundTripKeepsOtherKeys) {
  json original = {{"auths", {{"other.io", Auth("bzpv")}}},
                   {"psFormat", "table {{.ID}}"},
                   {"HttpHeaders", {{"User-Agent", "x"}}},
                   {"proxies", {{"default", {{"httpProxy", "http://p:3128"}}}}}};
  WriteConfig(original);
  ASSERT_TRUE(StoreCredentials("localhost:5000", {"me", "secret", ""}).ok());
  struct stat st;
  ASSERT_EQ(stat(ConfigPath().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  Credentials c = MustFind("localhost:5000");
  EXPECT_EQ(c.username, "me");
  EXPECT_EQ(c.password, "secret");
  json stored = ReadConfig();
  EXPECT_EQ(stored["auths"]["localhost:5000"]["auth"], "bWU6c2VjcmV0");
  json expected = original;
  expected["auths"]["localhost:5000"] = Auth("bWU6c2VjcmV0");
  EXPECT_EQ(stored, expected);

  ASSERT_TRUE(EraseCredentials("localhost:5000").ok());
  ExpectNone("localhost:5000");
  EXPECT_EQ(ReadConfig(), original);
  ASSERT_TRUE(EraseCredentials("localhost:5000").ok());  // already gone: fine
}

TEST_F(DockerConfigTest, StoreCreatesPrivateDirectoryAndFile) {
  std::string nested = dir_ / "a/b/docker";
  setenv("DOCKER_CONFIG", nested.c_str(), 1);
  auto stored = StoreCredentials("docker.io", {"hub", "pw", ""});
  ASSERT_TRUE(stored.ok()) << stored.error().message();
  struct stat st;
  ASSERT_EQ(stat(nested.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(stat((nested + "/config.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  // Keyed the way docker keys Docker Hub, so docker finds it too.
  std::ifstream file(nested + "/config.json");
  EXPECT_EQ(json::parse(file)["auths"]["https://index.docker.io/v1/"]["auth"], "aHViOnB3");
}

TEST_F(DockerConfigTest, StoreUpdatesExistingUrlFormKeyAndTokens) {
  WriteConfig(json{{"auths",
                    {{"https://localhost:5000/v1/",
                      {{"username", "old"}, {"password", "old"}, {"email", "e@x"}}}}}});
  ASSERT_TRUE(StoreCredentials("localhost:5000", {"", "", "tok"}).ok());
  json entry = ReadConfig()["auths"];
  EXPECT_EQ(entry,
            (json{{"https://localhost:5000/v1/", {{"email", "e@x"}, {"identitytoken", "tok"}}}}));
  EXPECT_EQ(MustFind("localhost:5000").identity_token, "tok");
}

TEST_F(DockerConfigTest, EraseRemovesEveryDockerHubAlias) {
  WriteConfig(json{{"auths",
                    {{"docker.io", Auth("YTpi")},
                     {"https://index.docker.io/v1/", Auth("YTpi")},
                     {"ghcr.io", Auth("YTpi")}}}});
  ASSERT_TRUE(EraseCredentials("docker.io").ok());
  EXPECT_EQ(ReadConfig(), (json{{"auths", {{"ghcr.io", Auth("YTpi")}}}}));
}

TEST_F(DockerConfigTest, StoreAndEraseThroughHelper) {
  json original = {{"credsStore", "test"}, {"auths", {{"ghcr.io", json::object()}}}};
  WriteConfig(original);
  ASSERT_TRUE(StoreCredentials("ghcr.io", {"u", "p\"w", ""}).ok());
  ASSERT_TRUE(StoreCredentials("docker.io", {"", "", "tok"}).ok());
  EXPECT_EQ(ReadConfig(), original);  // secrets went to the helper only
  EXPECT_EQ(HelperLog(),
            "store {\"Secret\":\"p\\\"w\",\"ServerURL\":\"ghcr.io\",\"Username\":\"u\"}\n"
            "store {\"Secret\":\"tok\",\"ServerURL\":\"https://index.docker.io/v1/\","
            "\"Username\":\"<token>\"}\n");

  ASSERT_TRUE(EraseCredentials("ghcr.io").ok());
  ASSERT_TRUE(EraseCredentials("quay.io").ok());  // helper: not found, fine
  EXPECT_NE(HelperLog().find("erase ghcr.io\nerase quay.io\n"), std::string::npos);
  EXPECT_EQ(ReadConfig(), (json{{"credsStore", "test"}, {"auths", json::object()}}));
}

TEST_F(DockerConfigTest, StoreWritesThroughSymlink) {
  std::string real = dir_ / "real-config.json";
  std::ofstream(real) << R"({"psFormat":"x"})";
  ASSERT_EQ(mkdir(config_dir_.c_str(), 0700), 0);
  ASSERT_EQ(symlink(real.c_str(), ConfigPath().c_str()), 0);
  ASSERT_TRUE(StoreCredentials("ghcr.io", {"u", "p", ""}).ok());
  struct stat st;
  ASSERT_EQ(lstat(ConfigPath().c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(MustFind("ghcr.io").password, "p");
}

}  // namespace
}  // namespace vk::image
