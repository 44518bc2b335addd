// VM bundles through real registries (docker-registry, plain and htpasswd):
// push -> pull is byte-identical and sparse, a re-push after a one-file
// change sends a few percent of the disk (counted on the wire), a pull
// killed half way completes on the next run, a corrupt chunk is refused.
#include "image/bundle_transfer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include "image/test_support.h"
#include "image/testing/cutting_proxy.h"
#include "image/testing/local_registry.h"

namespace vk::image {
namespace {

namespace fs = std::filesystem;
using testing::CuttingProxy;
using ::testing::HasSubstr;
using testing::LocalRegistry;
using testing::TempDir;

#define REQUIRE_MKE2FS() \
  if (!testing::HaveTool("mke2fs")) GTEST_SKIP() << "needs mke2fs (e2fsprogs)"

void WriteNoise(const std::string& path, size_t size, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::string out(size, '\0');
  for (size_t i = 0; i + 8 <= size; i += 8) {
    uint64_t v = random();
    std::memcpy(out.data() + i, &v, 8);
  }
  std::ofstream(path, std::ios::binary) << out;
}

int PortOf(const LocalRegistry& registry) {
  return std::stoi(registry.host().substr(registry.host().find(':') + 1));
}

// A bundle whose disk is an ext4 image of `root`, built the same way every
// time (fixed UUID, hash seed, clock and mtimes), so changing one file of
// `root` changes only that file's blocks.
void WriteBundle(const std::string& root, const std::string& bundle, const std::string& size) {
  fs::create_directories(bundle);
  std::string cmd = "find " + root + " -exec touch -h -d @1700000000 {} + && " +
                    "E2FSPROGS_FAKE_TIME=1700000000 mke2fs -q -F -t ext4 -b 4096 " +
                    "-U 6f0c6a57-1c2e-4a0d-9d7e-0123456789ab " +
                    "-E hash_seed=2b7e1516-28ae-d2a6-abf7-158809cf4f3c,root_owner=0:0 -d " + root +
                    " " + bundle + "/disk.ext4 " + size + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  WriteNoise(bundle + "/kernel", 3 << 20, 99);
  std::ofstream(bundle + "/config.json") << R"({"cpus":1,"memory":"256M"})";
  fs::permissions(bundle + "/kernel", fs::perms::owner_read | fs::perms::owner_write);
}

void WriteRoot(const std::string& root, int files, size_t file_size) {
  fs::create_directories(root + "/data");
  for (int i = 0; i < files; ++i)
    WriteNoise(root + "/data/f" + std::to_string(i), file_size, static_cast<uint64_t>(i));
  WriteNoise(root + "/app.bin", 1 << 20, 1000);
  std::ofstream(root + "/hello") << "hello\n";
}

bool SameFile(const std::string& a, const std::string& b) {
  return std::system(("cmp -s " + a + " " + b).c_str()) == 0;
}

void ExpectSameBundle(const std::string& a, const std::string& b) {
  for (const char* part : {"disk.ext4", "kernel", "config.json"})
    EXPECT_TRUE(SameFile(a + "/" + part, b + "/" + part)) << part;
  EXPECT_EQ(fs::status(b + "/kernel").permissions(), fs::status(a + "/kernel").permissions());
}

BundleOptions Quiet() {
  BundleOptions options;
  options.insecure = true;
  options.progress = Progress::Style::kQuiet;
  return options;
}

TEST(BundleTransfer, PushPullIsByteIdenticalAndARepushSendsOnlyTheChange) {
  REQUIRE_REGISTRY_TOOLS();
  REQUIRE_MKE2FS();
  TempDir dir;
  LocalRegistry registry(dir / "registry");
  ASSERT_TRUE(registry.ready());
  CuttingProxy proxy(PortOf(registry));
  WriteRoot(dir / "root", 20, 4 << 20);
  WriteBundle(dir / "root", dir / "v1", "512M");
  Reference ref = *ParseReference(proxy.authority() + "/vms/app:latest");
  auto pushed = PushBundle(dir / "v1", ref, Quiet());
  ASSERT_TRUE(pushed.ok()) << pushed.error().message();
  EXPECT_GT(pushed->zero_bytes, 300u << 20);  // the empty part of the disk is not stored
  EXPECT_GE(proxy.client_bytes(), 80u << 20);

  auto pulled = PullBundle(ref, dir / "out", Quiet());
  ASSERT_TRUE(pulled.ok()) << pulled.error().message();
  EXPECT_EQ(pulled->manifest_digest, pushed->manifest_digest);
  ExpectSameBundle(dir / "v1", dir / "out");
  struct stat st {};
  ASSERT_EQ(::stat((dir / "out/disk.ext4").c_str(), &st), 0);
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, 200u << 20) << "the disk is not sparse";

  // One file changes (same size, new bytes): only the chunks around its
  // blocks and the metadata that describes it travel again.
  WriteNoise(dir / "root/app.bin", 1 << 20, 2000);
  WriteBundle(dir / "root", dir / "v2", "512M");
  uint64_t before = proxy.client_bytes();
  auto repushed = PushBundle(dir / "v2", ref, Quiet());
  ASSERT_TRUE(repushed.ok()) << repushed.error().message();
  uint64_t sent = proxy.client_bytes() - before;
  std::printf("re-push after a one-file change: %llu bytes on the wire (%.2f%% of the disk)\n",
              static_cast<unsigned long long>(sent), 100.0 * sent / (512 << 20));
  EXPECT_LT(sent, (512ull << 20) / 20);
  EXPECT_GT(repushed->chunks_sent, 0u);
  auto pulled2 = PullBundle(ref, dir / "out2", Quiet());
  ASSERT_TRUE(pulled2.ok()) << pulled2.error().message();
  ExpectSameBundle(dir / "v2", dir / "out2");
}

TEST(BundleTransfer, PullKilledHalfWayCompletesOnTheNextRun) {
  REQUIRE_REGISTRY_TOOLS();
  REQUIRE_MKE2FS();
  TempDir dir;
  LocalRegistry registry(dir / "registry");
  ASSERT_TRUE(registry.ready());
  CuttingProxy proxy(PortOf(registry));
  WriteRoot(dir / "root", 16, 4 << 20);
  WriteBundle(dir / "root", dir / "v1", "256M");
  Reference ref = *ParseReference(proxy.authority() + "/vms/kill:v1");
  ASSERT_TRUE(PushBundle(dir / "v1", ref, Quiet()).ok());

  proxy.Throttle(std::chrono::milliseconds(5));  // ~13 MB/s: the pull takes seconds
  pid_t child = ::fork();
  if (child == 0) {
    BundleOptions options = Quiet();
    options.parallel = 2;
    auto result = PullBundle(ref, dir / "out", options);
    ::_exit(result.ok() ? 0 : 1);
  }
  // Kill it once a good part of the disk has landed in the temp directory.
  std::string partial;
  for (int i = 0; i < 600 && partial.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (const auto& e : fs::directory_iterator(dir.path()))
      if (e.path().filename().string().rfind(".out.pull-", 0) == 0) partial = e.path();
  }
  ASSERT_FALSE(partial.empty());
  for (int i = 0; i < 600; ++i) {
    struct stat st {};
    if (::stat((partial + "/disk.ext4").c_str(), &st) == 0 && st.st_blocks * 512 > (24 << 20))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_FALSE(fs::exists(dir / "out")) << "the pull finished before it was killed";

  proxy.Throttle(std::chrono::microseconds(0));
  auto resumed = PullBundle(ref, dir / "out", Quiet());
  ASSERT_TRUE(resumed.ok()) << resumed.error().message();
  EXPECT_GT(resumed->kept_bytes, 0u);
  EXPECT_LT(resumed->chunks_fetched, resumed->chunks);
  ExpectSameBundle(dir / "v1", dir / "out");
  EXPECT_FALSE(fs::exists(partial));
}

TEST(BundleTransfer, CorruptChunkIsRefusedAndNothingIsCreated) {
  REQUIRE_REGISTRY_TOOLS();
  REQUIRE_MKE2FS();
  if (!testing::HaveTool("htpasswd")) GTEST_SKIP() << "needs htpasswd (apache2-utils)";
  TempDir dir;
  LocalRegistry registry(dir / "registry", "alice", "s3cret");
  ASSERT_TRUE(registry.ready());
  fs::create_directories(dir / "docker");
  std::ofstream(dir / "docker/config.json")
      << R"({"auths":{")" << registry.host() << R"(":{"auth":"YWxpY2U6czNjcmV0"}}})";
  ::setenv("DOCKER_CONFIG", (dir / "docker").c_str(), 1);
  WriteRoot(dir / "root", 4, 1 << 20);
  WriteBundle(dir / "root", dir / "v1", "64M");
  Reference ref = *ParseReference(registry.host() + "/vms/bad:v1");
  auto pushed = PushBundle(dir / "v1", ref, Quiet());
  ASSERT_TRUE(pushed.ok()) << pushed.error().message();
  auto good = PullBundle(ref, dir / "good", Quiet());
  ASSERT_TRUE(good.ok()) << good.error().message();
  ExpectSameBundle(dir / "v1", dir / "good");

  // Flip a byte of every stored chunk frame (blobs over 64 KiB) in the
  // registry's own storage: the registry serves them as they are.
  int damaged = 0;
  for (const auto& e : fs::recursive_directory_iterator(registry.storage()))
    if (e.path().filename() == "data" && e.file_size() > (64 << 10)) {
      std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(100);
      f.put('\x5a');
      ++damaged;
    }
  ASSERT_GT(damaged, 0);
  auto bad = PullBundle(ref, dir / "out", Quiet());
  ::unsetenv("DOCKER_CONFIG");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message(), HasSubstr("do not match"));
  EXPECT_FALSE(fs::exists(dir / "out"));
}

}  // namespace
}  // namespace vk::image
