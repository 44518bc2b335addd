// The store's integrity and crash safety against a real registry (Debian's
// docker-registry on 127.0.0.1, seeded with skopeo): damaged blobs and bases
// are fetched or built again, a pull killed at any point leaves nothing that
// passes for complete, and an image over the size limit is refused before a
// layer is requested.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "image/pull.h"
#include "image/registry_client.h"
#include "image/test_support.h"
#include "image/testing/local_registry.h"
#include "image/testing/noise.h"
#include "image/testing/oci_layout.h"

namespace vk::image {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::LocalRegistry;
using testing::NoiseBytes;
using testing::TempDir;

// Seeds REPO:v1, a two-layer image (layers of `layer_bytes` each).
struct SeededImage {
  ImageSource source;
  std::vector<std::string> layers;  // digests as the registry serves them
};

SeededImage SeedImage(const TempDir& dir, const LocalRegistry& registry, const std::string& repo,
                      size_t layer_bytes) {
  testing::WriteTar(dir / "a.tar", {{.path = "etc/", .type = AE_IFDIR, .perm = 0755},
                                    {.path = "etc/hello", .data = "hello\n"},
                                    {.path = "a.bin", .data = NoiseBytes(layer_bytes, 1)}});
  testing::WriteTar(dir / "b.tar", {{.path = "b.bin", .data = NoiseBytes(layer_bytes, 2)}});
  testing::OciLayoutWriter writer(dir / "layout");
  ImageConfig config;
  config.os = "linux";
  config.architecture = "amd64";
  writer.Tag(
      writer.AddImage({{dir / "a.tar", dir / "a.tar"}, {dir / "b.tar", dir / "b.tar"}}, config),
      "v1");
  writer.WriteIndex();
  EXPECT_TRUE(registry.Seed(dir / "layout:v1", repo + ":v1"));
  SeededImage image{*ParseImageSource(registry.host() + "/" + repo + ":v1"), {}};
  RegistryOptions options;
  options.insecure = true;
  RegistryClient client(image.source.reference, options);
  auto fetched = client.FetchManifest("v1");
  EXPECT_TRUE(fetched.ok());
  if (!fetched.ok()) return image;
  Manifest manifest = *ParseManifest(fetched->body, fetched->content_type);
  for (const Descriptor& d : manifest.layers) image.layers.push_back(d.digest);
  return image;
}

PullOptions Quiet() {
  PullOptions o;
  o.insecure = true;
  o.progress = Progress::Style::kQuiet;
  return o;
}

size_t CountLayerGets(const LocalRegistry& registry, const std::string& digest) {
  std::string log = testing::ReadFile(registry.log_path());
  size_t count = 0;
  for (size_t pos = 0; (pos = log.find("/blobs/" + digest + " HTTP", pos)) != std::string::npos;
       ++pos)
    count += log.compare(log.rfind('"', pos) + 1, 3, "GET") == 0;
  return count;
}

void FlipByte(const std::string& path) {
  fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
  std::string bytes = testing::FileBytes(path);
  bytes[bytes.size() / 2] ^= 0x01;
  std::ofstream(path, std::ios::binary) << bytes;
}

TEST(RegistryStore, DamagedLayerIsFetchedAgainAndDamagedBaseRebuilt) {
  REQUIRE_REGISTRY_TOOLS();
  TempDir dir;
  LocalRegistry registry(dir / "registry");
  ASSERT_TRUE(registry.ready());
  SeededImage image = SeedImage(dir, registry, "test/heal", 64 << 10);
  ASSERT_EQ(image.layers.size(), 2u);
  Store store = *Store::Open(dir / "store");
  ASSERT_TRUE(PullImage(store, image.source, Quiet()).ok());

  // A flipped byte: converting refuses the layer, the next pull fetches it.
  FlipByte(store.BlobPath(image.layers[1]));
  ImageRecord record = **store.FindImage(StoreName(image.source));
  auto refused = EnsureBase(store, record, Progress::Style::kQuiet);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message(), HasSubstr("vk image pull"));
  auto pulled = PullImage(store, image.source, Quiet());
  ASSERT_TRUE(pulled.ok()) << pulled.error().message();
  EXPECT_EQ(CountLayerGets(registry, image.layers[1]), 2u);
  EXPECT_EQ(CountLayerGets(registry, image.layers[0]), 1u);

  // A truncated layer is fetched again by the pull itself.
  fs::resize_file(store.BlobPath(image.layers[0]), 100);
  ASSERT_TRUE(PullImage(store, image.source, Quiet()).ok());
  EXPECT_EQ(CountLayerGets(registry, image.layers[0]), 2u);

  auto base = EnsureBase(store, *pulled, Progress::Style::kQuiet);
  ASSERT_TRUE(base.ok()) << base.error().message();
  // A truncated base is rebuilt, not handed to a VM.
  fs::permissions(*base, fs::perms::owner_write, fs::perm_options::add);
  fs::resize_file(*base, fs::file_size(*base) / 2);
  auto rebuilt = EnsureBase(store, *pulled, Progress::Style::kQuiet);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().message();
  EXPECT_EQ(testing::Fsck(*rebuilt), 0);
  EXPECT_EQ(testing::Debugfs(*rebuilt, "cat /etc/hello"), "hello\n");
}

TEST(RegistryStore, ImageOverTheSizeLimitIsRefusedBeforeDownloading) {
  REQUIRE_REGISTRY_TOOLS();
  TempDir dir;
  LocalRegistry registry(dir / "registry");
  ASSERT_TRUE(registry.ready());
  SeededImage image = SeedImage(dir, registry, "test/big", 64 << 10);
  Store store = *Store::Open(dir / "store");
  ::setenv("VIRTKIT_MAX_IMAGE_SIZE", "100K", 1);
  auto pulled = PullImage(store, image.source, Quiet());
  ::unsetenv("VIRTKIT_MAX_IMAGE_SIZE");
  ASSERT_FALSE(pulled.ok());
  EXPECT_THAT(pulled.error().message(), HasSubstr(StoreName(image.source)));
  EXPECT_THAT(pulled.error().message(), HasSubstr("VIRTKIT_MAX_IMAGE_SIZE"));
  EXPECT_THAT(pulled.error().message(), HasSubstr("over the limit of 102.4 kB"));
  for (const std::string& layer : image.layers) EXPECT_EQ(CountLayerGets(registry, layer), 0u);
  EXPECT_TRUE(PullImage(store, image.source, Quiet()).ok());  // the default allows it
}

// Every blob hashes to its name, every base matches its record, and tmp/
// holds nothing but resumable partials and owner files of live stores.
void ExpectNoHalfEntries(const Store& store, const ImageRecord& record) {
  for (const auto& entry : fs::directory_iterator(store.root() + "/blobs/sha256")) {
    std::string name = entry.path().filename().string();
    EXPECT_EQ(testing::DigestOfBytes(testing::FileBytes(entry.path())), "sha256:" + name);
  }
  EXPECT_TRUE(store.HasBase(record.manifest_digest,
                            BaseInputs(record.manifest_digest, record.layers),
                            Repair::kReportOnly));
  for (const auto& entry : fs::directory_iterator(store.root() + "/tmp")) {
    std::string name = entry.path().filename().string();
    EXPECT_TRUE(name.rfind("owner-", 0) == 0 || entry.path().extension() == ".partial") << name;
  }
}

TEST(RegistryStore, PullKilledAtAnyPointLeavesNoHalfEntries) {
  REQUIRE_REGISTRY_TOOLS();
  TempDir dir;
  LocalRegistry registry(dir / "registry");
  ASSERT_TRUE(registry.ready());
  SeededImage image = SeedImage(dir, registry, "test/killed", 4 << 20);
  std::mt19937 random(std::random_device{}());
  for (int round = 0; round < 6; ++round) {
    pid_t child = ::fork();
    if (child == 0) {
      auto store = Store::Open(dir / "store");
      if (!store.ok()) ::_exit(2);
      auto record = PullImage(*store, image.source, Quiet());
      ::_exit(record.ok() && EnsureBase(*store, *record, Progress::Style::kQuiet).ok() ? 0 : 1);
    }
    // Early rounds die in the manifest and layer downloads, later ones
    // (once layers are stored) in the conversion.
    ::usleep(std::uniform_int_distribution<useconds_t>(0, 60000 * (round + 1))(random));
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
  }
  Store store = *Store::Open(dir / "store");
  auto record = PullImage(store, image.source, Quiet());
  ASSERT_TRUE(record.ok()) << record.error().message();
  auto base = EnsureBase(store, *record, Progress::Style::kQuiet);
  ASSERT_TRUE(base.ok()) << base.error().message();
  EXPECT_EQ(testing::Fsck(*base), 0);
  ExpectNoHalfEntries(store, *record);
}

}  // namespace
}  // namespace vk::image
