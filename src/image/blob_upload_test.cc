// Blob uploads against a real registry (Debian's docker-registry on
// 127.0.0.1), through a relay that counts what is sent and can cut a
// connection half way.
#include "image/blob_upload.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <random>

#include "base/unique_fd.h"
#include "image/registry_client.h"
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

int PortOf(const LocalRegistry& registry) {
  return std::stoi(registry.host().substr(registry.host().find(':') + 1));
}

RegistryClient ClientFor(const std::string& authority, const std::string& repo) {
  RegistryOptions options;
  options.insecure = true;
  options.initial_backoff_ms = 1;
  return RegistryClient(*ParseReference(authority + "/" + repo), options);
}

TEST(BlobUpload, ParsesUploadRanges) {
  EXPECT_EQ(ParseUploadRange("0-1023", 0), 1024u);
  EXPECT_EQ(ParseUploadRange("0-0", 0), 0u);  // nothing yet
  EXPECT_EQ(ParseUploadRange("0-0", 1), 1u);  // one byte acknowledged
  EXPECT_FALSE(ParseUploadRange("5-10", 0));
  EXPECT_FALSE(ParseUploadRange("0-", 0));
  EXPECT_FALSE(ParseUploadRange("", 0));
  EXPECT_FALSE(ParseUploadRange("0-18446744073709551615", 0));  // would wrap to 0
}

TEST(BlobUpload, ChunkedUploadSurvivesADroppedConnection) {
  REQUIRE_REGISTRY_TOOLS();
  TempDir dir;
  LocalRegistry registry(dir / "registry");
  ASSERT_TRUE(registry.ready());
  CuttingProxy proxy(PortOf(registry));
  const size_t kSize = 12 << 20, kChunk = 4 << 20;
  std::string blob = NoiseBytes(kSize, 7);
  std::ofstream(dir / "blob", std::ios::binary) << blob;
  UniqueFd fd(::open((dir / "blob").c_str(), O_RDONLY | O_CLOEXEC));
  std::string digest = testing::DigestOfBytes(blob);
  RegistryClient client = ClientFor(proxy.authority(), "test/resume");
  UploadOptions options;
  options.chunk_size = kChunk;
  proxy.CutAfter(kChunk + kChunk / 2);  // half way through the second chunk
  auto outcome = client.UploadBlob(digest, BlobData::FileRange(fd.get(), 0, kSize), options);
  ASSERT_TRUE(outcome.ok()) << outcome.error().message();
  EXPECT_EQ(*outcome, UploadOutcome::kUploaded);
  EXPECT_TRUE(proxy.did_cut());
  // Resumed from what the registry kept or, where it cancelled the session
  // (docker-registry 2.8 does after a broken PATCH), started over once.
  EXPECT_LT(proxy.client_bytes(), 2 * kSize);
  auto back = client.FetchBlobBytes(digest, kSize);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_TRUE(*back == blob);

  uint64_t before = proxy.client_bytes();
  auto again = client.UploadBlob(digest, BlobData::FileRange(fd.get(), 0, kSize), options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, UploadOutcome::kPresent);
  EXPECT_LT(proxy.client_bytes() - before, 4096u);  // a HEAD, no body
}

TEST(BlobUpload, MountsFromAnotherRepositoryAndUploadsSmallBlobsWhole) {
  REQUIRE_REGISTRY_TOOLS();
  TempDir dir;
  LocalRegistry registry(dir / "registry");
  ASSERT_TRUE(registry.ready());
  CuttingProxy proxy(PortOf(registry));
  std::string blob = NoiseBytes(300 << 10, 3);
  std::string digest = testing::DigestOfBytes(blob);
  RegistryClient source = ClientFor(proxy.authority(), "team/source");
  std::atomic<uint64_t> sent{0};
  UploadOptions options;
  options.bytes_sent = &sent;
  auto first = source.UploadBlob(digest, BlobData::Memory(blob), options);
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_EQ(*first, UploadOutcome::kUploaded);
  EXPECT_EQ(sent.load(), blob.size());

  RegistryClient other = ClientFor(proxy.authority(), "team/other");
  options.mount_from = "team/source";
  uint64_t before = proxy.client_bytes();
  auto mounted = other.UploadBlob(digest, BlobData::Memory(blob), options);
  ASSERT_TRUE(mounted.ok()) << mounted.error().message();
  EXPECT_EQ(*mounted, UploadOutcome::kMounted);
  EXPECT_LT(proxy.client_bytes() - before, 4096u);
  EXPECT_TRUE(*other.HasBlob(digest));
}

}  // namespace
}  // namespace vk::image
