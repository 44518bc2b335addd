// Manifest, index and image config parsing (OCI image-spec and Docker
// schema 2), including hostile and legacy documents.
#include "image/manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <nlohmann/json.hpp>
#include <string>

namespace vk::image {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

std::string Digest(char c) { return "sha256:" + std::string(64, c); }

Json Desc(std::string_view media_type, char c, uint64_t size) {
  return {{"mediaType", media_type}, {"digest", Digest(c)}, {"size", size}};
}

Json OciManifest(size_t layers) {
  Json j = {{"schemaVersion", 2},
            {"mediaType", kOciManifest},
            {"config", Desc(kOciConfig, 'c', 1469)},
            {"layers", Json::array()}};
  for (size_t i = 0; i < layers; ++i) j["layers"].push_back(Desc(kOciLayerGzip, 'a', 100 + i));
  return j;
}

Json IndexEntry(char c, std::string os, std::string arch, std::string variant = "") {
  Json j = Desc(kOciManifest, c, 500);
  j["platform"] = {{"os", os}, {"architecture", arch}};
  if (!variant.empty()) j["platform"]["variant"] = variant;
  return j;
}

Json Index() {
  return {{"schemaVersion", 2},
          {"mediaType", kOciIndex},
          {"manifests",
           {IndexEntry('1', "linux", "amd64"), IndexEntry('2', "linux", "arm64", "v8"),
            IndexEntry('3', "linux", "arm", "v7"), IndexEntry('4', "unknown", "unknown")}}};
}

std::string ErrorOf(std::string_view body, std::string_view content_type = {}) {
  auto m = ParseManifest(body, content_type);
  return m.ok() ? "" : m.error().message();
}

TEST(ManifestParse, OciManifest) {
  auto m = ParseManifest(OciManifest(2).dump());
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->kind, ManifestKind::kManifest);
  EXPECT_EQ(m->media_type, kOciManifest);
  EXPECT_EQ(m->config.digest, Digest('c'));
  EXPECT_EQ(m->config.size, 1469u);
  ASSERT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(m->layers[1].media_type, kOciLayerGzip);
  EXPECT_EQ(m->layers[1].size, 101u);
}

TEST(ManifestParse, DockerSchema2) {
  Json j = {{"schemaVersion", 2},
            {"mediaType", kDockerManifest},
            {"config", Desc(kDockerConfig, 'c', 7)},
            {"layers", {Desc(kDockerLayerGzip, 'd', 9)}}};
  auto m = ParseManifest(j.dump());
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->kind, ManifestKind::kManifest);
  EXPECT_EQ(m->media_type, kDockerManifest);
  EXPECT_EQ(m->layers.at(0).media_type, kDockerLayerGzip);
}

TEST(ManifestParse, OciIndexWithAnnotations) {
  Json j = Index();
  j["manifests"][0]["annotations"] = {{"org.opencontainers.image.ref.name", "v1"}};
  auto m = ParseManifest(j.dump());
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->kind, ManifestKind::kIndex);
  ASSERT_EQ(m->manifests.size(), 4u);
  EXPECT_EQ(m->manifests[0].annotations.at("org.opencontainers.image.ref.name"), "v1");
  EXPECT_EQ(m->manifests[1].platform->ToString(), "linux/arm64/v8");
}

TEST(ManifestParse, DockerManifestList) {
  Json j = Index();
  j["mediaType"] = kDockerManifestList;
  auto m = ParseManifest(j.dump());
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->kind, ManifestKind::kIndex);
  EXPECT_EQ(m->media_type, kDockerManifestList);
}

TEST(ManifestParse, MediaTypeFromBodyThenContentTypeThenShape) {
  Json j = OciManifest(1);
  j.erase("mediaType");
  auto from_header = ParseManifest(j.dump(), std::string(kDockerManifest) + "; charset=utf-8");
  ASSERT_TRUE(from_header.ok()) << from_header.error().message();
  EXPECT_EQ(from_header->media_type, kDockerManifest);

  auto inferred = ParseManifest(j.dump(), "application/json");
  ASSERT_TRUE(inferred.ok()) << inferred.error().message();
  EXPECT_EQ(inferred->kind, ManifestKind::kManifest);

  Json index = Index();
  index.erase("mediaType");
  auto inferred_index = ParseManifest(index.dump());
  ASSERT_TRUE(inferred_index.ok()) << inferred_index.error().message();
  EXPECT_EQ(inferred_index->kind, ManifestKind::kIndex);

  // The body's declaration beats a contradicting header.
  auto body_wins = ParseManifest(Index().dump(), kOciManifest);
  ASSERT_TRUE(body_wins.ok()) << body_wins.error().message();
  EXPECT_EQ(body_wins->kind, ManifestKind::kIndex);
}

TEST(ManifestParse, RefusesSchema1) {
  Json by_version = {{"schemaVersion", 1}, {"name", "x"}, {"fsLayers", Json::array()}};
  EXPECT_THAT(ErrorOf(by_version.dump()), HasSubstr("deprecated Docker schema 1"));
  EXPECT_THAT(ErrorOf(by_version.dump()), HasSubstr("re-pushed"));
  Json by_type = {{"mediaType", "application/vnd.docker.distribution.manifest.v1+json"}};
  EXPECT_THAT(ErrorOf(by_type.dump()), HasSubstr("schema 1"));
  Json untyped = {{"name", "x"}};
  EXPECT_THAT(ErrorOf(untyped.dump(), "application/vnd.docker.distribution.manifest.v1+prettyjws"),
              HasSubstr("schema 1"));
}

TEST(ManifestParse, SizeZeroOnlyForTheEmptyBlob) {
  Json zero = OciManifest(1);
  zero["layers"][0]["size"] = 0;
  EXPECT_THAT(ErrorOf(zero.dump()), HasSubstr("only the empty blob"));
  Json missing = OciManifest(1);
  missing["layers"][0].erase("size");
  EXPECT_THAT(ErrorOf(missing.dump()), HasSubstr("missing \"size\""));
  Json empty = OciManifest(1);
  empty["layers"][0] = {{"mediaType", kOciLayer}, {"digest", kEmptyBlobDigest}, {"size", 0}};
  EXPECT_TRUE(ParseManifest(empty.dump()).ok());
}

TEST(ImageSize, DeclaredTotalIsCappedAndSumsCannotWrap) {
  Manifest m = *ParseManifest(OciManifest(3).dump());
  EXPECT_TRUE(CheckImageSize(m, "img", 1469 + 100 + 101 + 102).ok());
  auto over = CheckImageSize(m, "reg/img:1", 1000);
  ASSERT_FALSE(over.ok());
  EXPECT_THAT(over.error().message(), HasSubstr("reg/img:1"));
  EXPECT_THAT(over.error().message(), HasSubstr("1772 bytes"));
  EXPECT_THAT(over.error().message(), HasSubstr("VIRTKIT_MAX_IMAGE_SIZE"));
  m.layers[0].size = UINT64_MAX;
  m.layers[1].size = 2;
  EXPECT_FALSE(CheckImageSize(m, "img", UINT64_MAX - 1).ok());
  m = *ParseManifest(OciManifest(0).dump());
  m.config.size = kMaxConfigBytes + 1;
  EXPECT_THAT(CheckImageSize(m, "img", UINT64_MAX).error().message(), HasSubstr("config"));
}

TEST(ImageSize, LimitFromTheEnvironment) {
  ::unsetenv("VIRTKIT_MAX_IMAGE_SIZE");
  EXPECT_EQ(*MaxImageSize(), kDefaultMaxImageSize);
  ::setenv("VIRTKIT_MAX_IMAGE_SIZE", "2G", 1);
  EXPECT_EQ(*MaxImageSize(), 2ull << 30);
  ::setenv("VIRTKIT_MAX_IMAGE_SIZE", "lots", 1);
  EXPECT_THAT(MaxImageSize().error().message(), HasSubstr("VIRTKIT_MAX_IMAGE_SIZE=lots"));
  ::unsetenv("VIRTKIT_MAX_IMAGE_SIZE");
}

TEST(ManifestParse, RefusesGarbage) {
  EXPECT_THAT(ErrorOf(""), HasSubstr("not valid JSON"));
  EXPECT_THAT(ErrorOf("{\"layers\": ["), HasSubstr("not valid JSON"));
  EXPECT_THAT(ErrorOf("[1,2]"), HasSubstr("not a JSON object"));
  EXPECT_THAT(ErrorOf("{}"), HasSubstr("neither"));
  EXPECT_THAT(ErrorOf(R"({"mediaType": 5})"), HasSubstr("\"mediaType\" is not a string"));
  EXPECT_THAT(ErrorOf(R"({"mediaType": "text/html"})"), HasSubstr("unsupported manifest"));
  EXPECT_THAT(ErrorOf(R"({"schemaVersion": 3, "layers": []})"), HasSubstr("schemaVersion 3"));
  EXPECT_THAT(ErrorOf(std::string(100000, '[')), HasSubstr("deeper than"));
  Json no_config = OciManifest(1);
  no_config.erase("config");
  EXPECT_THAT(ErrorOf(no_config.dump()), HasSubstr("missing \"config\""));
}

TEST(ManifestParse, RefusesOversized) {
  std::string body = OciManifest(1).dump();
  body.insert(body.size() - 1, ",\"pad\":\"" + std::string(kMaxManifestBytes, 'x') + "\"");
  EXPECT_THAT(ErrorOf(body), HasSubstr("over the 4194304-byte limit"));
}

TEST(ManifestParse, RefusesBadDescriptors) {
  Json bad_digest = OciManifest(1);
  bad_digest["layers"][0]["digest"] = "sha256:ABC";
  EXPECT_THAT(ErrorOf(bad_digest.dump()), HasSubstr("layers[0]: digest \"sha256:ABC\""));
  Json md5 = OciManifest(1);
  md5["config"]["digest"] = "md5:0123";
  EXPECT_THAT(ErrorOf(md5.dump()), HasSubstr("config: digest"));
  for (Json size : {Json(-1), Json(1.5), Json("12"), Json(nullptr)}) {
    Json j = OciManifest(1);
    j["layers"][0]["size"] = size;
    EXPECT_THAT(ErrorOf(j.dump()), HasSubstr("\"size\" is not a non-negative integer"))
        << size.dump();
  }
  Json no_size = OciManifest(1);
  no_size["layers"][0].erase("size");
  EXPECT_THAT(ErrorOf(no_size.dump()), HasSubstr("missing \"size\""));
  Json bad_annotation = OciManifest(1);
  bad_annotation["layers"][0]["annotations"] = {{"k", 1}};
  EXPECT_THAT(ErrorOf(bad_annotation.dump()), HasSubstr("annotation \"k\""));
}

TEST(ManifestParse, EnforcesCounts) {
  EXPECT_TRUE(ParseManifest(OciManifest(kMaxLayers).dump()).ok());
  EXPECT_THAT(ErrorOf(OciManifest(kMaxLayers + 1).dump()), HasSubstr("over the limit of 1000"));
  Json index = Index();
  index["manifests"] = Json::array();
  for (size_t i = 0; i <= kMaxIndexEntries; ++i) index["manifests"].push_back(Desc("x", 'e', 1));
  EXPECT_THAT(ErrorOf(index.dump()), HasSubstr("over the limit of 10000"));
}

TEST(ManifestPlatform, ParseAndPrint) {
  EXPECT_EQ(ParsePlatform("amd64")->ToString(), "linux/amd64");
  EXPECT_EQ(ParsePlatform("x86_64")->ToString(), "linux/amd64");
  EXPECT_EQ(ParsePlatform("linux/arm64/v8")->ToString(), "linux/arm64/v8");
  EXPECT_EQ(ParsePlatform("linux/aarch64")->ToString(), "linux/arm64");
  for (std::string_view bad : {"", "linux/", "/amd64", "a/b/c/d", "Linux/amd64", "linux amd64"}) {
    EXPECT_THAT(ParsePlatform(bad).error().message(), HasSubstr("invalid platform")) << bad;
  }
}

TEST(ManifestPlatform, Select) {
  Manifest index = *ParseManifest(Index().dump());
  EXPECT_EQ(SelectPlatform(index, *ParsePlatform("linux/amd64"))->digest, Digest('1'));
  EXPECT_EQ(SelectPlatform(index, *ParsePlatform("linux/arm64"))->digest, Digest('2'));
  EXPECT_EQ(SelectPlatform(index, *ParsePlatform("linux/arm64/v8"))->digest, Digest('2'));
  EXPECT_EQ(SelectPlatform(index, *ParsePlatform("linux/arm/v7"))->digest, Digest('3'));
  EXPECT_FALSE(SelectPlatform(index, *ParsePlatform("linux/arm/v6")).ok());
}

TEST(ManifestPlatform, Arm64WithoutVariantIsV8) {
  Json j = Index();
  j["manifests"] = {IndexEntry('5', "linux", "arm64")};
  Manifest index = *ParseManifest(j.dump());
  EXPECT_EQ(SelectPlatform(index, *ParsePlatform("linux/arm64/v8"))->digest, Digest('5'));
}

TEST(ManifestPlatform, ErrorListsAvailable) {
  Manifest index = *ParseManifest(Index().dump());
  auto missing = SelectPlatform(index, *ParsePlatform("linux/riscv64"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(),
            "the image has no linux/riscv64 variant; available platforms: linux/amd64, "
            "linux/arm64/v8, linux/arm/v7");
  Manifest single = *ParseManifest(OciManifest(1).dump());
  EXPECT_THAT(SelectPlatform(single, Platform{}).error().message(),
              HasSubstr("not an image index"));
}

const char kDockerConfigJson[] = R"({
  "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
  "config": {"Entrypoint": null, "Cmd": ["/bin/sh"], "Env": ["PATH=/usr/bin:/bin"],
             "WorkingDir": "", "User": null, "Labels": null},
  "rootfs": {"type": "layers", "diff_ids": ["sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]},
  "history": [{"created_by": "ADD file"}]
})";

TEST(ManifestConfig, ParsesDockerConfigWithNulls) {
  auto c = ParseImageConfig(kDockerConfigJson);
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->architecture, "amd64");
  EXPECT_EQ(c->os, "linux");
  EXPECT_TRUE(c->entrypoint.empty());
  EXPECT_EQ(c->cmd, std::vector<std::string>{"/bin/sh"});
  EXPECT_EQ(c->env, std::vector<std::string>{"PATH=/usr/bin:/bin"});
  EXPECT_EQ(c->working_dir, "");
  EXPECT_EQ(c->user, "");
  EXPECT_EQ(c->diff_ids, std::vector<std::string>{Digest('a')});
}

TEST(ManifestConfig, NullOrMissingConfigSection) {
  std::string rootfs = R"("rootfs": {"type": "layers", "diff_ids": []})";
  EXPECT_TRUE(ParseImageConfig("{\"config\": null, " + rootfs + "}").ok());
  EXPECT_TRUE(ParseImageConfig("{" + rootfs + "}").ok());
}

TEST(ManifestConfig, Rejects) {
  auto error = [](std::string_view body) {
    auto c = ParseImageConfig(body);
    return c.ok() ? "" : c.error().message();
  };
  EXPECT_THAT(error("nope"), HasSubstr("parse image config: image config is not valid JSON"));
  EXPECT_THAT(error("{}"), HasSubstr("missing \"rootfs\""));
  EXPECT_THAT(error(R"({"rootfs": {"type": "zfs", "diff_ids": []}})"), HasSubstr("not \"layers\""));
  EXPECT_THAT(error(R"({"rootfs": {"type": "layers", "diff_ids": ["x"]}})"),
              HasSubstr("diff_id \"x\""));
  EXPECT_THAT(error(R"({"config": {"Cmd": "sh"}, "rootfs": {"type": "layers"}})"),
              HasSubstr("\"Cmd\" is not an array"));
  EXPECT_THAT(error(R"({"config": {"Env": [1]}, "rootfs": {"type": "layers"}})"),
              HasSubstr("\"Env\" holds a non-string"));
  EXPECT_THAT(error(R"({"architecture": 1, "rootfs": {"type": "layers"}})"),
              HasSubstr("\"architecture\" is not a string"));
}

TEST(ManifestSerialize, ManifestRoundTrips) {
  Descriptor config{.media_type = std::string(kOciConfig), .digest = Digest('c'), .size = 42};
  std::vector<Descriptor> layers = {
      {.media_type = std::string(kOciLayer), .digest = Digest('1'), .size = 10},
      {.media_type = std::string(kOciLayerZstd),
       .digest = Digest('2'),
       .size = 20,
       .annotations = {{"k", "v"}}}};
  std::string text = SerializeOciManifest(config, layers);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_EQ(text.rfind("{\"config\":", 0), 0u) << "keys are sorted";
  EXPECT_EQ(text, SerializeOciManifest(config, layers)) << "deterministic";
  auto m = ParseManifest(text);
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->media_type, kOciManifest);
  EXPECT_EQ(m->config.digest, config.digest);
  EXPECT_EQ(m->config.size, 42u);
  ASSERT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(m->layers[1].media_type, kOciLayerZstd);
  EXPECT_EQ(m->layers[1].annotations, layers[1].annotations);
  EXPECT_EQ(Json::parse(text)["schemaVersion"], 2);
}

TEST(ManifestSerialize, ConfigRoundTrips) {
  ImageConfig config{.architecture = "arm64",
                     .os = "linux",
                     .entrypoint = {"/init"},
                     .cmd = {"--flag", "x y"},
                     .env = {"A=1", "B="},
                     .working_dir = "/srv",
                     .user = "1000:1000",
                     .diff_ids = {Digest('1'), Digest('2')}};
  std::string text = SerializeImageConfig(config);
  EXPECT_EQ(text, SerializeImageConfig(config));
  Json j = Json::parse(text);
  EXPECT_EQ(j["rootfs"]["type"], "layers");
  auto back = ParseImageConfig(text);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->architecture, config.architecture);
  EXPECT_EQ(back->entrypoint, config.entrypoint);
  EXPECT_EQ(back->cmd, config.cmd);
  EXPECT_EQ(back->env, config.env);
  EXPECT_EQ(back->working_dir, config.working_dir);
  EXPECT_EQ(back->user, config.user);
  EXPECT_EQ(back->diff_ids, config.diff_ids);
}

TEST(ManifestSerialize, InvalidUtf8DoesNotThrow) {
  ImageConfig config{.os = "linux", .env = {std::string("A=\xff\xfe")}};
  std::string text = SerializeImageConfig(config);
  EXPECT_TRUE(ParseImageConfig(text).ok());
}

}  // namespace
}  // namespace vk::image
