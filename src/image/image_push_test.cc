// `vk image push` against real registries (plain and htpasswd): what it
// pushes reads back through skopeo unchanged, blobs already there or in a
// sibling repository are not sent again.
#include "image/image_push.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "image/pull.h"
#include "image/test_support.h"
#include "image/testing/cutting_proxy.h"
#include "image/testing/local_registry.h"
#include "image/testing/noise.h"
#include "image/testing/oci_layout.h"

namespace vk::image {
namespace {

using testing::CuttingProxy;
using testing::LocalRegistry;
using testing::NoiseBytes;
using testing::TempDir;

// A two-layer image imported from an OCI layout into `store`.
ImageRecord StoredImage(const TempDir& dir, Store& store) {
  testing::WriteTar(dir / "a.tar",
                    {{.path = "etc/", .type = AE_IFDIR, .perm = 0755},
                     {.path = "etc/hello", .data = "hello\n"},
                     {.path = "a.bin", .data = NoiseBytes(400 << 10, 1)}},
                    /*gzip=*/true);
  testing::WriteTar(dir / "b.tar", {{.path = "b.bin", .data = NoiseBytes(200 << 10, 2)}});
  testing::OciLayoutWriter writer(dir / "layout");
  ImageConfig config;
  config.os = "linux";
  config.architecture = "amd64";
  config.cmd = {"/bin/sh"};
  writer.Tag(
      writer.AddImage({{dir / "a.tar", dir / "a.tar"}, {dir / "b.tar", dir / "b.tar"}}, config),
      "v1");
  writer.WriteIndex();
  PullOptions options;
  options.progress = Progress::Style::kQuiet;
  auto record = PullImage(store, *ParseImageSource("oci:" + dir / "layout:v1"), options);
  EXPECT_TRUE(record.ok()) << record.error().message();
  return *record;
}

ImagePushOptions Quiet() {
  ImagePushOptions options;
  options.insecure = true;
  options.progress = Progress::Style::kQuiet;
  return options;
}

TEST(ImagePush, PushedImageReadsBackThroughSkopeoUnchanged) {
  REQUIRE_REGISTRY_TOOLS();
  if (!testing::HaveTool("htpasswd")) GTEST_SKIP() << "needs htpasswd (apache2-utils)";
  TempDir dir;
  LocalRegistry registry(dir / "registry", "alice", "s3cret");
  ASSERT_TRUE(registry.ready());
  std::filesystem::create_directories(dir / "docker");
  std::ofstream(dir / "docker/config.json")
      << R"({"auths":{")" << registry.host() << R"(":{"auth":"YWxpY2U6czNjcmV0"}}})";
  ::setenv("DOCKER_CONFIG", (dir / "docker").c_str(), 1);
  Store store = *Store::Open(dir / "store");
  ImageRecord record = StoredImage(dir, store);
  ImagePushOptions options = Quiet();
  options.chunk_size = 64 << 10;  // the 400 KiB layer goes up in PATCH chunks
  Reference target = *ParseReference(registry.host() + "/team/app:v1");
  auto pushed = PushImage(store, record, target, options);
  ::unsetenv("DOCKER_CONFIG");
  ASSERT_TRUE(pushed.ok()) << pushed.error().message();
  EXPECT_EQ(pushed->uploaded, 3);  // two layers and the config
  EXPECT_EQ(pushed->manifest_digest, record.manifest_digest);

  std::string creds = " --creds alice:s3cret --tls-verify=false docker://" + target.Canonical();
  int status = -1;
  std::string inspect = testing::Run("skopeo inspect" + creds, &status);
  ASSERT_EQ(status, 0) << inspect;
  EXPECT_EQ(nlohmann::json::parse(inspect).at("Digest"), record.manifest_digest);
  testing::Run(
      "skopeo copy -q --preserve-digests --src-creds alice:s3cret "
      "--src-tls-verify=false docker://" +
          target.Canonical() + " oci:" + dir / "back:v1",
      &status);
  ASSERT_EQ(status, 0);
  std::vector<std::string> blobs = record.layers;
  blobs.push_back(record.config_digest);
  blobs.push_back(record.manifest_digest);
  for (const std::string& digest : blobs) {
    std::string copied = testing::FileBytes(dir / "back/blobs/sha256/" + digest.substr(7));
    EXPECT_TRUE(copied == testing::FileBytes(store.BlobPath(digest))) << digest << " differs";
  }
}

TEST(ImagePush, BlobsInTheRegistryOrASiblingRepositoryAreNotSent) {
  REQUIRE_REGISTRY_TOOLS();
  TempDir dir;
  LocalRegistry registry(dir / "registry");
  ASSERT_TRUE(registry.ready());
  CuttingProxy proxy(std::stoi(registry.host().substr(registry.host().find(':') + 1)));
  Store store = *Store::Open(dir / "store");
  ImageRecord local = StoredImage(dir, store);
  Reference first = *ParseReference(proxy.authority() + "/team/first:v1");
  auto pushed = PushImage(store, local, first, Quiet());
  ASSERT_TRUE(pushed.ok()) << pushed.error().message();
  EXPECT_GT(pushed->bytes_sent, 600u << 10);

  auto again = PushImage(store, local, first, Quiet());
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again->present, 3);
  EXPECT_EQ(again->bytes_sent, 0u);

  // Pulled from team/first, pushed to team/second: mounted, not sent.
  PullOptions pull;
  pull.insecure = true;
  pull.progress = Progress::Style::kQuiet;
  auto pulled = PullImage(store, *ParseImageSource(first.Canonical()), pull);
  ASSERT_TRUE(pulled.ok()) << pulled.error().message();
  uint64_t before = proxy.client_bytes();
  auto mounted =
      PushImage(store, *pulled, *ParseReference(proxy.authority() + "/team/second:v1"), Quiet());
  ASSERT_TRUE(mounted.ok()) << mounted.error().message();
  EXPECT_EQ(mounted->mounted, 3);
  EXPECT_LT(proxy.client_bytes() - before, 32u << 10);  // requests and the manifest only
}

}  // namespace
}  // namespace vk::image
