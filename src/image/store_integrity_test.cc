// The store trusts no file just because it exists: blobs are checked by size
// and sha256 (re-hashed only when they changed since commit), bases by their
// integrity record; temp files of dead writers are swept, live ones kept.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "image/scratch_template.h"
#include "image/store.h"
#include "image/test_support.h"
#include "image/testing/oci_layout.h"

namespace vk::image {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::TempDir;

const std::string kBytes = "some blob bytes, more than a few";

void FlipByte(const std::string& path, size_t offset) {
  fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
  int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0) << path;
  char c;
  ASSERT_EQ(::pread(fd, &c, 1, static_cast<off_t>(offset)), 1);
  c ^= 0x20;
  ASSERT_EQ(::pwrite(fd, &c, 1, static_cast<off_t>(offset)), 1);
  ::close(fd);
}

void Truncate(const std::string& path, uint64_t size) {
  fs::permissions(path, fs::perms::owner_write, fs::perm_options::add);
  fs::resize_file(path, size);
}

size_t CountFiles(const std::string& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), {}));
}

TEST(StoreIntegrity, FlippedOrTruncatedBlobIsRemovedNotTrusted) {
  TempDir dir;
  Store store = *Store::Open(dir / "store");
  std::string digest = *store.PutBlob(kBytes);
  ASSERT_TRUE(store.HasBlob(digest));
  FlipByte(store.BlobPath(digest), 3);
  EXPECT_FALSE(store.HasBlob(digest));
  EXPECT_FALSE(fs::exists(store.BlobPath(digest)));

  ASSERT_TRUE(store.PutBlob(digest, kBytes).ok());  // fetched again
  ASSERT_TRUE(store.HasBlob(digest));
  Truncate(store.BlobPath(digest), 5);
  EXPECT_FALSE(store.HasBlob(digest));
  EXPECT_FALSE(fs::exists(store.BlobPath(digest)));
}

TEST(StoreIntegrity, ReadBlobRemovesADamagedBlob) {
  TempDir dir;
  Store store = *Store::Open(dir / "store");
  std::string digest = *store.PutBlob(kBytes);
  FlipByte(store.BlobPath(digest), 0);
  auto read = store.ReadBlob(digest, 1 << 20);
  ASSERT_FALSE(read.ok());
  EXPECT_THAT(read.error().message(), HasSubstr("damaged"));
  EXPECT_FALSE(fs::exists(store.BlobPath(digest)));
}

TEST(StoreIntegrity, UnrecordedBlobIsHashedOnceThenTrustedByItsRecord) {
  TempDir dir;
  Store store = *Store::Open(dir / "store");
  // A blob from an older store: no integrity record.
  std::string digest = testing::DigestOfBytes(kBytes);
  std::ofstream(store.BlobPath(digest), std::ios::binary) << kBytes;
  EXPECT_FALSE(fs::exists(dir / "store/integrity/blob-" + digest.substr(7)));
  EXPECT_TRUE(store.HasBlob(digest));
  EXPECT_TRUE(fs::exists(dir / "store/integrity/blob-" + digest.substr(7)));
  // The same content under another name is not that blob.
  std::string other = testing::DigestOfBytes("other");
  std::ofstream(store.BlobPath(other), std::ios::binary) << kBytes;
  EXPECT_FALSE(store.HasBlob(other));
  EXPECT_FALSE(fs::exists(store.BlobPath(other)));
}

TEST(StoreIntegrity, PartialRefusesBytesPastItsSizeAndShortCommits) {
  TempDir dir;
  Store store = *Store::Open(dir / "store");
  std::string digest = testing::DigestOfBytes(kBytes);
  auto zero = store.OpenPartial(digest, 0);
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(zero.error().message(), HasSubstr("size 0"));

  PartialBlob partial = store.OpenPartial(digest, kBytes.size()).value();
  ASSERT_TRUE(partial.Append(kBytes.data(), 10).ok());
  EXPECT_FALSE(partial.Append(kBytes.data(), kBytes.size()).ok());
  EXPECT_EQ(partial.size(), 10u);
  EXPECT_EQ(fs::file_size(dir / "store/tmp/" + digest.substr(7) + ".partial"), 10u);
  auto short_commit = partial.Commit();
  ASSERT_FALSE(short_commit.ok());
  EXPECT_THAT(short_commit.error().message(), HasSubstr("cut short"));
  EXPECT_FALSE(store.HasBlob(digest));
}

TEST(StoreIntegrity, DamagedBaseIsReportedAndRemovedOnlyWhenAsked) {
  TempDir dir;
  Store store = *Store::Open(dir / "store");
  std::string manifest = testing::DigestOfBytes("manifest");
  std::string inputs = BaseInputs(manifest, {testing::DigestOfBytes("layer")});
  std::string tmp = store.TempPath("base");
  std::ofstream(tmp, std::ios::binary) << std::string(8192, 'e');
  auto path = store.CommitBase(tmp, manifest, inputs);
  ASSERT_TRUE(path.ok()) << path.error().message();
  EXPECT_TRUE(store.HasBase(manifest, inputs, Repair::kReportOnly));
  // Other inputs (another converter or layer list) are another base.
  EXPECT_FALSE(store.HasBase(manifest, BaseInputs(manifest, {}), Repair::kReportOnly));
  Truncate(*path, 4096);
  EXPECT_FALSE(store.HasBase(manifest, inputs, Repair::kReportOnly));
  EXPECT_TRUE(fs::exists(*path));  // the lock holder decides
  EXPECT_FALSE(store.HasBase(manifest, inputs, Repair::kRemoveDamaged));
  EXPECT_FALSE(fs::exists(*path));
}

TEST(StoreIntegrity, TempFilesOfAKilledWriterAreSweptLiveOnesKept) {
  TempDir dir;
  Store live = *Store::Open(dir / "store");
  std::string mine = live.TempPath("base");
  std::ofstream(mine) << "in progress";
  pid_t child = ::fork();
  if (child == 0) {
    auto store = Store::Open(dir / "store");
    if (!store.ok()) ::_exit(1);
    std::ofstream(store->TempPath("base")) << "half a base";
    std::ofstream(store->TempPath("blob")) << "half a blob";
    ::kill(::getpid(), SIGKILL);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  // Two temps and an owner file of the dead child, ours and our owner file.
  EXPECT_EQ(CountFiles(dir / "store/tmp"), 5u);
  Store next = *Store::Open(dir / "store");  // sweeps
  EXPECT_TRUE(fs::exists(mine));
  // Left: our temp, our owner file and `next`'s owner file.
  EXPECT_EQ(CountFiles(dir / "store/tmp"), 3u);
}

TEST(StoreIntegrity, PruneDropsRecordsOfRemovedEntriesAndAbandonedOrOutdatedTemplates) {
  TempDir dir;
  Store store = *Store::Open(dir / "store");
  std::string digest = *store.PutBlob(kBytes);  // no image refers to it
  std::string record = dir / "store/integrity/blob-" + digest.substr(7);
  ASSERT_TRUE(fs::exists(record));
  fs::create_directories(dir / "store/templates");
  const std::string templates = dir / "store/templates/";
  std::string done = templates + ScratchTemplateName(1ull << 30);
  std::string old_temp = done + ".tmp-4242";
  std::string fresh_temp = templates + ScratchTemplateName(2ull << 30) + ".tmp-4243";
  std::string outdated = templates + "virtkit-scratch-2-1073741824.ext4";  // an older format
  for (const std::string& path : {old_temp, fresh_temp, done, outdated}) std::ofstream(path) << "x";
  fs::last_write_time(old_temp, fs::file_time_type::clock::now() - std::chrono::hours(2));
  fs::last_write_time(done, fs::file_time_type::clock::now() - std::chrono::hours(2));
  auto pruned = store.Prune();
  ASSERT_TRUE(pruned.ok()) << pruned.error().message();
  EXPECT_EQ(pruned->blobs_removed, 1u);
  EXPECT_FALSE(fs::exists(record));
  EXPECT_FALSE(fs::exists(old_temp));
  EXPECT_TRUE(fs::exists(fresh_temp));  // may be a `vk run` making it now
  EXPECT_TRUE(fs::exists(done));
  EXPECT_FALSE(fs::exists(outdated));
}

}  // namespace
}  // namespace vk::image
