// Importing oci:, oci-archive: and docker-archive: sources: fixtures are
// built here with libarchive (and skopeo, when installed), then checked for
// records, verified blobs, tag and platform selection and hostile names.
#include "image/local_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "image/test_support.h"

namespace vk::image {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using Json = nlohmann::json;
using testing::ReadFile;
using testing::TarEntrySpec;
using testing::TempDir;
using testing::WriteTar;

constexpr char kRefName[] = "org.opencontainers.image.ref.name";

std::string Sha(std::string_view bytes) {
  Sha256 sha;
  sha.Update(bytes);
  return "sha256:" + DigestHex(sha.Final());
}

std::string Hex(const std::string& digest) { return digest.substr(7); }

void WriteFile(const std::string& path, std::string_view bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

std::string MakeTar(const std::string& path, std::vector<TarEntrySpec> entries) {
  WriteTar(path, entries);
  return ReadFile(path);
}

// An OCI image layout written file by file; `files` keeps every file (by
// path inside the layout) so the same layout can be packed as a tar.
class LayoutBuilder {
 public:
  explicit LayoutBuilder(std::string dir) : dir_(std::move(dir)) {
    Put("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  }

  Descriptor Blob(std::string_view media_type, const std::string& bytes) {
    std::string digest = Sha(bytes);
    Put("blobs/sha256/" + Hex(digest), bytes);
    return {std::string(media_type), digest, bytes.size(), std::nullopt, {}};
  }

  // Config + manifest for `layers` (uncompressed tars) on linux/`arch`.
  Descriptor Image(const std::vector<std::string>& layers, const std::string& arch) {
    ImageConfig config;
    config.os = "linux";
    config.architecture = arch;
    std::vector<Descriptor> descriptors;
    for (const std::string& layer : layers) {
      descriptors.push_back(Blob(kOciLayer, layer));
      config.diff_ids.push_back(descriptors.back().digest);
    }
    Descriptor c = Blob(kOciConfig, SerializeImageConfig(config));
    return Blob(kOciManifest, SerializeOciManifest(c, descriptors));
  }

  Descriptor Index(const std::vector<std::pair<Descriptor, std::string>>& platforms) {
    Json j = {{"schemaVersion", 2}, {"mediaType", kOciIndex}, {"manifests", Json::array()}};
    for (const auto& [d, arch] : platforms) {
      j["manifests"].push_back({{"mediaType", d.media_type},
                                {"digest", d.digest},
                                {"size", d.size},
                                {"platform", {{"os", "linux"}, {"architecture", arch}}}});
    }
    return Blob(kOciIndex, j.dump());
  }

  void Tag(const Descriptor& d, const std::string& tag) {
    Json entry = {{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
    if (!tag.empty()) entry["annotations"] = {{kRefName, tag}};
    index_["manifests"].push_back(entry);
    Put("index.json", index_.dump());
  }

  void Put(const std::string& name, const std::string& bytes) {
    files_[name] = bytes;
    WriteFile(dir_ + "/" + name, bytes);
  }

  // The layout as a tar, plus `extra` entries.
  void Pack(const std::string& path, std::vector<TarEntrySpec> extra = {}) const {
    for (const auto& [name, bytes] : files_) extra.push_back({.path = name, .data = bytes});
    WriteTar(path, extra);
  }

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  Json index_ = {{"schemaVersion", 2}, {"manifests", Json::array()}};
  std::map<std::string, std::string> files_;
};

class LocalSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.emplace(std::move(Store::Open(tmp_ / "store").value()));
    layer1_ = MakeTar(tmp_ / "l1.tar", {{.path = "etc/hello", .data = "hello\n"}});
    layer2_ = MakeTar(tmp_ / "l2.tar", {{.path = "bin/tool", .perm = 0755, .data = "#!/bin/sh\n"}});
  }

  Result<ImageRecord> Import(const std::string& text, const Platform& platform = {}) {
    ImageSource source = VK_TRY(ParseImageSource(text));
    return ImportLocalImage(*store_, source, platform);
  }

  // Every blob of the record is in the store and hashes to its name.
  void ExpectStored(const ImageRecord& record) {
    for (const std::string& digest : record.layers) {
      EXPECT_EQ(Sha(ReadFile(store_->BlobPath(digest))), digest);
    }
    EXPECT_TRUE(store_->ReadBlob(record.config_digest, kMaxConfigBytes).ok());
    auto manifest = store_->ReadBlob(record.manifest_digest, kMaxManifestBytes);
    ASSERT_TRUE(manifest.ok()) << manifest.error().message();
    auto parsed = ParseManifest(*manifest);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message();
    EXPECT_EQ(parsed->config.digest, record.config_digest);
    ASSERT_EQ(parsed->layers.size(), record.layers.size());
    auto found = store_->FindImage(record.name);
    ASSERT_TRUE(found.ok() && found->has_value());
    EXPECT_EQ((*found)->manifest_digest, record.manifest_digest);
  }

  TempDir tmp_;
  std::optional<Store> store_;
  std::string layer1_, layer2_;
};

// A layout with tags "v1" and "latest" (different images).
LayoutBuilder TwoTagLayout(const std::string& dir, const std::string& l1, const std::string& l2) {
  LayoutBuilder layout(dir);
  layout.Tag(layout.Image({l1, l2}, "amd64"), "v1");
  layout.Tag(layout.Image({l2}, "amd64"), "latest");
  return layout;
}

TEST_F(LocalSourceTest, LayoutImportsTaggedImage) {
  LayoutBuilder layout = TwoTagLayout(tmp_ / "layout", layer1_, layer2_);
  auto record = Import("oci:" + layout.dir() + ":v1");
  ASSERT_TRUE(record.ok()) << record.error().message();
  EXPECT_EQ(record->name, "oci:" + layout.dir() + ":v1");
  EXPECT_EQ(record->source, record->name);
  EXPECT_EQ(record->platform, "linux/amd64");
  EXPECT_EQ(record->layers, (std::vector<std::string>{Sha(layer1_), Sha(layer2_)}));
  uint64_t config_size = ReadFile(store_->BlobPath(record->config_digest)).size();
  EXPECT_EQ(record->size, config_size + layer1_.size() + layer2_.size());
  EXPECT_GT(record->created, 0);
  ExpectStored(*record);
}

TEST_F(LocalSourceTest, LayoutTagSelection) {
  LayoutBuilder layout = TwoTagLayout(tmp_ / "layout", layer1_, layer2_);
  auto missing = Import("oci:" + layout.dir() + ":v2");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(),
            "oci:" + layout.dir() + ": no image tagged \"v2\" (tags: v1, latest)");
  auto ambiguous = Import("oci:" + layout.dir());
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_THAT(ambiguous.error().message(), HasSubstr("add :TAG to pick one (tags: v1, latest)"));

  LayoutBuilder single(tmp_ / "single");
  single.Tag(single.Image({layer1_}, "amd64"), "");
  auto only = Import("oci:" + single.dir());
  ASSERT_TRUE(only.ok()) << only.error().message();
  EXPECT_EQ(only->layers, std::vector<std::string>{Sha(layer1_)});
}

TEST_F(LocalSourceTest, LayoutRefusesBlobNotMatchingDigest) {
  LayoutBuilder layout = TwoTagLayout(tmp_ / "layout", layer1_, layer2_);
  std::string digest = Sha(layer1_);
  layout.Put("blobs/sha256/" + Hex(digest),
             layer2_ + std::string(layer1_.size() - layer2_.size(), 'x'));
  auto record = Import("oci:" + layout.dir() + ":v1");
  ASSERT_FALSE(record.ok());
  EXPECT_THAT(record.error().message(), HasSubstr("failed verification"));
  EXPECT_FALSE(store_->HasBlob(digest));
  EXPECT_FALSE(store_->FindImage("oci:" + layout.dir() + ":v1")->has_value());
}

TEST_F(LocalSourceTest, LayoutRefusesOversizedBlob) {
  LayoutBuilder layout = TwoTagLayout(tmp_ / "layout", layer1_, layer2_);
  layout.Put("blobs/sha256/" + Hex(Sha(layer1_)), layer1_ + "trailing");
  auto record = Import("oci:" + layout.dir() + ":v1");
  ASSERT_FALSE(record.ok());
  EXPECT_THAT(record.error().message(), HasSubstr("larger than"));
}

TEST_F(LocalSourceTest, LayoutIndexPicksLinuxAmd64) {
  LayoutBuilder layout(tmp_ / "layout");
  Descriptor arm = layout.Image({layer1_}, "arm64");
  Descriptor amd = layout.Image({layer2_}, "amd64");
  layout.Tag(layout.Index({{arm, "arm64"}, {amd, "amd64"}}), "multi");
  auto record = Import("oci:" + layout.dir() + ":multi", Platform{});
  ASSERT_TRUE(record.ok()) << record.error().message();
  EXPECT_EQ(record->manifest_digest, amd.digest);
  EXPECT_EQ(record->platform, "linux/amd64");
  EXPECT_EQ(record->layers, std::vector<std::string>{Sha(layer2_)});
  ExpectStored(*record);
  auto none = Import("oci:" + layout.dir() + ":multi", Platform{"linux", "riscv64", ""});
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.error().message(), HasSubstr("linux/arm64, linux/amd64"));
}

TEST_F(LocalSourceTest, LayoutChecksLayoutVersion) {
  LayoutBuilder layout = TwoTagLayout(tmp_ / "layout", layer1_, layer2_);
  layout.Put("oci-layout", R"({"imageLayoutVersion":"2.0.0"})");
  auto record = Import("oci:" + layout.dir() + ":v1");
  ASSERT_FALSE(record.ok());
  EXPECT_THAT(record.error().message(), HasSubstr("unsupported imageLayoutVersion \"2.0.0\""));
  auto not_layout = Import("oci:" + tmp_.path());
  ASSERT_FALSE(not_layout.ok());
  EXPECT_THAT(not_layout.error().message(), HasSubstr("not an OCI image layout directory"));
}

// Names no importer may write anywhere.
std::vector<TarEntrySpec> HostileEntries(const std::string& abs) {
  return {{.path = "../evil", .data = "x"},
          {.path = "blobs/sha256/../../evil", .data = "x"},
          {.path = "blobs/sha256/" + std::string(64, 'a') + "/../evil", .data = "x"},
          {.path = abs, .data = "x"},
          {.path = "blobs/sha256/" + std::string(64, 'A'), .data = "x"}};
}

void ExpectNoEvil(const TempDir& tmp) {
  EXPECT_FALSE(fs::exists(tmp / "abs-evil"));
  EXPECT_FALSE(fs::exists(fs::path(tmp.path()).parent_path() / "evil"));
  EXPECT_FALSE(fs::exists("../evil"));
  for (const auto& entry : fs::recursive_directory_iterator(tmp.path())) {
    EXPECT_NE(entry.path().filename(), "evil") << entry.path();
  }
}

TEST_F(LocalSourceTest, OciArchiveImportsAndIgnoresHostileNames) {
  LayoutBuilder layout = TwoTagLayout(tmp_ / "layout", layer1_, layer2_);
  std::string archive = tmp_ / "image.tar";
  layout.Pack(archive, HostileEntries(tmp_ / "abs-evil"));
  auto record = Import("oci-archive:" + archive + ":latest");
  ASSERT_TRUE(record.ok()) << record.error().message();
  EXPECT_EQ(record->layers, std::vector<std::string>{Sha(layer2_)});
  ExpectStored(*record);
  ExpectNoEvil(tmp_);
  auto missing = Import("oci-archive:" + archive + ":v9");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(),
            "oci-archive:" + archive + ": no image tagged \"v9\" (tags: v1, latest)");
}

TEST_F(LocalSourceTest, OciArchiveRefusesBlobNotMatchingDigest) {
  LayoutBuilder layout = TwoTagLayout(tmp_ / "layout", layer1_, layer2_);
  layout.Put("blobs/sha256/" + Hex(Sha(layer1_)), "not the layer");
  std::string archive = tmp_ / "image.tar";
  layout.Pack(archive);
  auto record = Import("oci-archive:" + archive + ":v1");
  ASSERT_FALSE(record.ok());
  EXPECT_THAT(record.error().message(), HasSubstr("failed verification"));
  EXPECT_FALSE(store_->HasBlob(Sha(layer1_)));
}

TEST_F(LocalSourceTest, OciArchiveWithoutIndexPointsAtDockerArchive) {
  std::string archive = tmp_ / "x.tar";
  WriteTar(archive, {{.path = "manifest.json", .data = "[]"}});
  auto record = Import("oci-archive:" + archive);
  ASSERT_FALSE(record.ok());
  EXPECT_THAT(record.error().message(), HasSubstr("use docker-archive:" + archive));
}

// `docker save` layout: <config hex>.json, <id>/layer.tar, manifest.json
// written last (so the importer must not rely on seeing it first).
struct DockerSave {
  std::string config;
  std::vector<TarEntrySpec> entries;
  Json manifest = Json::array();
};

void AddDockerImage(DockerSave& save, const std::vector<std::string>& layers,
                    const std::string& tag) {
  ImageConfig config{.architecture = "amd64", .os = "linux"};
  Json names = Json::array();
  for (const std::string& layer : layers) {
    config.diff_ids.push_back(Sha(layer));
    std::string name = Hex(Sha(layer + tag)) + "/layer.tar";  // a v1 id, not a digest
    save.entries.push_back({.path = name, .data = layer});
    names.push_back(name);
  }
  save.config = SerializeImageConfig(config);
  std::string config_name = Hex(Sha(save.config)) + ".json";
  save.entries.push_back({.path = config_name, .data = save.config});
  save.manifest.push_back({{"Config", config_name}, {"RepoTags", {tag}}, {"Layers", names}});
}

void WriteDockerSave(const std::string& path, DockerSave save) {
  save.entries.push_back({.path = "manifest.json", .data = save.manifest.dump()});
  WriteTar(path, save.entries);
}

TEST_F(LocalSourceTest, DockerArchiveImportsWithManifestLast) {
  DockerSave save;
  AddDockerImage(save, {layer1_, layer2_}, "example/app:1.0");
  std::vector<TarEntrySpec> hostile = HostileEntries(tmp_ / "abs-evil");
  save.entries.insert(save.entries.begin(), hostile.begin(), hostile.end());
  std::string archive = tmp_ / "save.tar";
  WriteDockerSave(archive, save);
  auto record = Import("docker-archive:" + archive);
  ASSERT_TRUE(record.ok()) << record.error().message();
  EXPECT_EQ(record->config_digest, Sha(save.config));
  EXPECT_EQ(record->layers, (std::vector<std::string>{Sha(layer1_), Sha(layer2_)}));
  EXPECT_EQ(record->size, save.config.size() + layer1_.size() + layer2_.size());
  EXPECT_EQ(record->platform, "linux/amd64");
  ExpectStored(*record);
  Manifest manifest = ParseManifest(*store_->ReadBlob(record->manifest_digest, 1 << 20)).value();
  EXPECT_EQ(manifest.media_type, kOciManifest);
  EXPECT_EQ(manifest.config.media_type, kOciConfig);
  EXPECT_EQ(manifest.layers[0].media_type, kOciLayer);
  ExpectNoEvil(tmp_);
}

TEST_F(LocalSourceTest, DockerArchiveSelectsByRepoTag) {
  DockerSave save;
  AddDockerImage(save, {layer1_}, "example/app:1.0");
  AddDockerImage(save, {layer2_}, "alpine:latest");
  std::string archive = tmp_ / "save.tar";
  WriteDockerSave(archive, save);
  auto alpine = Import("docker-archive:" + archive + ":alpine");
  ASSERT_TRUE(alpine.ok()) << alpine.error().message();
  EXPECT_EQ(alpine->layers, std::vector<std::string>{Sha(layer2_)});
  auto ambiguous = Import("docker-archive:" + archive);
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_THAT(ambiguous.error().message(),
              HasSubstr("add :REF to pick one (tags: example/app:1.0, alpine:latest)"));
  auto missing = Import("docker-archive:" + archive + ":busybox");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(),
            "docker-archive:" + archive +
                ": no image tagged \"busybox\" (tags: example/app:1.0, alpine:latest)");
}

TEST_F(LocalSourceTest, DockerArchiveRefusesCorruptLayerAndBadNames) {
  DockerSave save;
  AddDockerImage(save, {layer1_}, "app:1");
  save.entries[0].data = layer2_;  // no longer the config's diff_id
  std::string archive = tmp_ / "save.tar";
  WriteDockerSave(archive, save);
  auto corrupt = Import("docker-archive:" + archive);
  ASSERT_FALSE(corrupt.ok());
  EXPECT_THAT(corrupt.error().message(), HasSubstr("does not match the config's diff_id"));

  DockerSave bad;
  AddDockerImage(bad, {layer1_}, "app:1");
  bad.manifest[0]["Layers"] = {"../../etc/layer.tar"};
  WriteDockerSave(archive, bad);
  auto traversal = Import("docker-archive:" + archive);
  ASSERT_FALSE(traversal.ok());
  EXPECT_THAT(traversal.error().message(), HasSubstr("bad layer name \"../../etc/layer.tar\""));
}

// Layouts and archives written by a real tool (skopeo), not by our fixtures.
TEST_F(LocalSourceTest, SkopeoCopies) {
  int status = 0;
  testing::Run("skopeo --version", &status);
  if (status != 0) GTEST_SKIP() << "skopeo is not installed (apt-get install skopeo)";
  LayoutBuilder src = TwoTagLayout(tmp_ / "src", layer1_, layer2_);
  std::string copy = "skopeo --insecure-policy copy -q oci:" + src.dir() + ":v1 ";
  std::string dst = tmp_ / "dst", oci_tar = tmp_ / "oci.tar", docker_tar = tmp_ / "docker.tar";
  for (const std::string& target : {"oci:" + dst + ":tag2", "oci-archive:" + oci_tar + ":tag3",
                                    "docker-archive:" + docker_tar + ":example/app:v1"}) {
    testing::Run(copy + target, &status);
    ASSERT_EQ(status, 0) << copy + target;
  }
  for (const std::string& source : {"oci:" + dst + ":tag2", "oci-archive:" + oci_tar + ":tag3",
                                    "docker-archive:" + docker_tar}) {
    auto record = Import(source);
    ASSERT_TRUE(record.ok()) << source << ": " << record.error().message();
    // skopeo gzips layers for OCI destinations: check the diff_ids instead.
    ASSERT_EQ(record->layers.size(), 2u) << source;
    auto config = ParseImageConfig(*store_->ReadBlob(record->config_digest, kMaxConfigBytes));
    EXPECT_EQ(config->diff_ids, (std::vector<std::string>{Sha(layer1_), Sha(layer2_)})) << source;
    EXPECT_EQ(record->platform, "linux/amd64");
    ExpectStored(*record);
  }
}

}  // namespace
}  // namespace vk::image
