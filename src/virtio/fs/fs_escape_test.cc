// Containment and robustness: the guest must not reach outside the shared
// directory, modify a read-only share, or crash the server with garbage.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "virtio/fs/fs_test_harness.h"

namespace vk::virtio::fs {
namespace {

using testing::FsHarness;
using testing::Reply;
using testing::Req;
using testing::TempDir;

uint64_t Node(const Reply& reply) { return reply.As<fuse_entry_out>().nodeid; }

class FsEscapeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    share_ = dir_ / "share";
    outside_ = dir_ / "outside";
    std::filesystem::create_directory(share_);
    std::filesystem::create_directory(outside_);
    fs_ = std::make_unique<FsHarness>(FsOptions{share_, "share"});
    ASSERT_EQ(fs_->Init().error, 0);
  }
  TempDir dir_;
  std::string share_, outside_;
  std::unique_ptr<FsHarness> fs_;
};

TEST_F(FsEscapeTest, DotDotNeverLeavesTheRoot) {
  EXPECT_EQ(Node(fs_->Lookup(FUSE_ROOT_ID, "..")), FUSE_ROOT_ID);
  EXPECT_EQ(Node(fs_->Lookup(FUSE_ROOT_ID, ".")), FUSE_ROOT_ID);
  uint64_t d = Node(fs_->Mkdir(FUSE_ROOT_ID, "d"));
  uint64_t e = Node(fs_->Mkdir(d, "e"));
  EXPECT_EQ(Node(fs_->Lookup(e, "..")), d);
  EXPECT_EQ(Node(fs_->Lookup(d, "..")), FUSE_ROOT_ID);
  EXPECT_EQ(fs_->Lookup(d, "../..").error, EINVAL);
}

TEST_F(FsEscapeTest, SymlinksAreNeverFollowedOnTheHost) {
  struct stat before;
  ASSERT_EQ(::stat("/etc/passwd", &before), 0);
  ASSERT_EQ(::symlink("/etc/passwd", (share_ + "/passwd").c_str()), 0);
  ASSERT_EQ(::symlink("/etc", (share_ + "/etc").c_str()), 0);
  ASSERT_EQ(::symlink("../..", (share_ + "/up").c_str()), 0);
  ASSERT_EQ(::symlink(outside_.c_str(), (share_ + "/out").c_str()), 0);
  Reply link = fs_->Lookup(FUSE_ROOT_ID, "passwd");
  ASSERT_EQ(link.error, 0);
  EXPECT_TRUE(S_ISLNK(link.As<fuse_entry_out>().attr.mode));
  EXPECT_NE(link.As<fuse_entry_out>().attr.ino, before.st_ino);
  EXPECT_NE(fs_->Open(Node(link), O_RDWR | O_TRUNC).error, 0);
  EXPECT_EQ(fs_->Create(FUSE_ROOT_ID, "passwd", O_WRONLY | O_TRUNC).error, ELOOP);
  fuse_setattr_in truncate{};
  truncate.valid = FATTR_SIZE;
  EXPECT_NE(fs_->Call(Req(FUSE_SETATTR, Node(link)).Arg(truncate)).error, 0);
  uint32_t xattr[2] = {1, 0};
  EXPECT_NE(fs_->Call(Req(FUSE_SETXATTR, Node(link)).Arg(xattr).Str("user.x").Str("")).error, 0);
  for (const char* name : {"etc", "up", "out"}) {
    uint64_t dir_link = Node(fs_->Lookup(FUSE_ROOT_ID, name));
    EXPECT_EQ(fs_->Lookup(dir_link, "passwd").error, ENOTDIR) << name;
    EXPECT_EQ(fs_->Create(dir_link, "planted").error, ENOTDIR) << name;
    EXPECT_EQ(fs_->Mkdir(dir_link, "planted").error, ENOTDIR) << name;
    EXPECT_EQ(fs_->Call(Req(FUSE_SYMLINK, dir_link).Str("planted").Str("x")).error, ENOTDIR);
    EXPECT_EQ(fs_->Call(Req(FUSE_OPENDIR, dir_link).Arg(fuse_open_in{})).error, ENOTDIR);
  }
  struct stat after;
  ASSERT_EQ(::stat("/etc/passwd", &after), 0);
  EXPECT_EQ(after.st_size, before.st_size);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  EXPECT_TRUE(std::filesystem::is_empty(outside_));
}

TEST_F(FsEscapeTest, NamesWithSlashesOrDotsAreInvalid) {
  std::filesystem::create_directory(share_ + "/a");
  EXPECT_EQ(fs_->Lookup(FUSE_ROOT_ID, "a/b").error, EINVAL);
  EXPECT_EQ(fs_->Lookup(FUSE_ROOT_ID, "").error, EINVAL);
  EXPECT_EQ(fs_->Create(FUSE_ROOT_ID, "a/b").error, EINVAL);
  EXPECT_EQ(fs_->Create(FUSE_ROOT_ID, "../outside/f").error, EINVAL);
  EXPECT_EQ(fs_->Mkdir(FUSE_ROOT_ID, "..").error, EINVAL);
  EXPECT_EQ(fs_->Mkdir(FUSE_ROOT_ID, ".").error, EINVAL);
  EXPECT_EQ(fs_->Call(Req(FUSE_UNLINK, FUSE_ROOT_ID).Str("../outside")).error, EINVAL);
  EXPECT_EQ(fs_->Call(Req(FUSE_SYMLINK, FUSE_ROOT_ID).Str("x/y").Str("t")).error, EINVAL);
  fuse_rename_in rename{FUSE_ROOT_ID};
  EXPECT_EQ(fs_->Call(Req(FUSE_RENAME, FUSE_ROOT_ID).Arg(rename).Str("a").Str("../../a")).error,
            EINVAL);
  EXPECT_EQ(fs_->Lookup(FUSE_ROOT_ID, std::string(300, 'n')).error, ENAMETOOLONG);
  // A name without its NUL terminator.
  std::vector<uint8_t> unterminated = {'a', 'b'};
  EXPECT_EQ(fs_->Call(Req(FUSE_LOOKUP, FUSE_ROOT_ID).Raw(unterminated)).error, EINVAL);
  EXPECT_TRUE(std::filesystem::is_empty(outside_));
}

TEST_F(FsEscapeTest, SwappedDirectoryStaysPinned) {
  uint64_t d = Node(fs_->Mkdir(FUSE_ROOT_ID, "d"));
  // Between lookup and create the host swaps "d" for a symlink to outside.
  std::filesystem::rename(share_ + "/d", share_ + "/moved");
  ASSERT_EQ(::symlink(outside_.c_str(), (share_ + "/d").c_str()), 0);
  ASSERT_EQ(fs_->Create(d, "f").error, 0);
  ASSERT_EQ(fs_->Mkdir(d, "sub").error, 0);
  EXPECT_TRUE(std::filesystem::exists(share_ + "/moved/f"));
  EXPECT_TRUE(std::filesystem::exists(share_ + "/moved/sub"));
  EXPECT_TRUE(std::filesystem::is_empty(outside_));
}

TEST_F(FsEscapeTest, SwappedFileIsNotReopened) {
  std::filesystem::create_directory(share_ + "/d");
  { std::ofstream(share_ + "/d/f") << "mine"; }
  std::ofstream(outside_ + "/secret") << "secret";
  uint64_t d = Node(fs_->Lookup(FUSE_ROOT_ID, "d"));
  uint64_t f = Node(fs_->Lookup(d, "f"));
  std::filesystem::remove(share_ + "/d/f");
  ASSERT_EQ(::symlink((outside_ + "/secret").c_str(), (share_ + "/d/f").c_str()), 0);
  EXPECT_EQ(fs_->Open(f, O_RDONLY).error, ESTALE);
  std::filesystem::remove(share_ + "/d/f");
  ASSERT_EQ(::link((outside_ + "/secret").c_str(), (share_ + "/d/f").c_str()), 0);
  EXPECT_EQ(fs_->Open(f, O_RDWR | O_TRUNC).error, ESTALE);
  EXPECT_EQ(std::filesystem::file_size(outside_ + "/secret"), 6u);
}

TEST_F(FsEscapeTest, ReadOnlyRefusesEveryModifyingOp) {
  { std::ofstream(share_ + "/f") << "ro"; }
  std::filesystem::create_directory(share_ + "/d");
  FsHarness ro({share_, "ro", /*read_only=*/true});
  ASSERT_EQ(ro.Init().error, 0);
  uint64_t f = Node(ro.Lookup(FUSE_ROOT_ID, "f"));
  EXPECT_EQ(ro.Open(f, O_WRONLY).error, EROFS);
  EXPECT_EQ(ro.Open(f, O_RDONLY | O_TRUNC).error, EROFS);
  uint64_t fh = ro.Open(f, O_RDONLY).As<fuse_open_out>().fh;
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ro.Read(fh, 0, 10).body.data()), 2), "ro");
  std::vector<uint8_t> data(8, 1);
  uint32_t xattr[2] = {1, 0};
  fuse_rename2_in rename2{FUSE_ROOT_ID, 0, 0};
  fuse_setattr_in setattr{};
  setattr.valid = FATTR_SIZE;
  fuse_fallocate_in fallocate{fh, 0, 4096, 0, 0};
  fuse_copy_file_range_in copy{fh, 0, f, fh, 0, 1, 0};
  std::vector<Req> requests = {
      Req(FUSE_SETATTR, f).Arg(setattr),
      Req(FUSE_MKDIR, FUSE_ROOT_ID).Arg(fuse_mkdir_in{0755, 0}).Str("x"),
      Req(FUSE_MKNOD, FUSE_ROOT_ID).Arg(fuse_mknod_in{S_IFIFO | 0644, 0, 0, 0}).Str("x"),
      Req(FUSE_SYMLINK, FUSE_ROOT_ID).Str("x").Str("t"),
      Req(FUSE_LINK, FUSE_ROOT_ID).Arg(fuse_link_in{f}).Str("x"),
      Req(FUSE_UNLINK, FUSE_ROOT_ID).Str("f"),
      Req(FUSE_RMDIR, FUSE_ROOT_ID).Str("d"),
      Req(FUSE_RENAME, FUSE_ROOT_ID).Arg(fuse_rename_in{FUSE_ROOT_ID}).Str("f").Str("g"),
      Req(FUSE_RENAME2, FUSE_ROOT_ID).Arg(rename2).Str("f").Str("g"),
      Req(FUSE_CREATE, FUSE_ROOT_ID).Arg(fuse_create_in{O_RDWR | O_CREAT, 0644, 0, 0}).Str("x"),
      Req(FUSE_WRITE, f).Arg(fuse_write_in{fh, 0, 8, 0, 0, 0, 0}).Raw(data),
      Req(FUSE_FALLOCATE, f).Arg(fallocate),
      Req(FUSE_COPY_FILE_RANGE, f).Arg(copy),
      Req(FUSE_SETXATTR, f).Arg(xattr).Str("user.x").Str(""),
      Req(FUSE_REMOVEXATTR, f).Str("user.x"),
  };
  for (const Req& request : requests) EXPECT_EQ(ro.Call(request).error, EROFS);
  EXPECT_EQ(ro.Call(Req(FUSE_ACCESS, f).Arg(fuse_access_in{W_OK, 0})).error, EROFS);
  EXPECT_EQ(std::filesystem::file_size(share_ + "/f"), 2u);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(share_), {}), 2);
}

TEST_F(FsEscapeTest, TruncatedAndGarbageRequestsGetErrors) {
  // Shorter than fuse_in_header: no unique to answer, returned with 0 bytes.
  std::vector<uint8_t> tiny(10, 0xff);
  Reply reply = fs_->Send(tiny);
  EXPECT_TRUE(reply.used);
  EXPECT_EQ(reply.used_len, 0u);
  // in_header.len larger than the chain, and smaller than the header.
  auto request = Req(FUSE_GETATTR, FUSE_ROOT_ID).Arg(fuse_getattr_in{}).Build(1);
  uint32_t len = 4096;
  std::memcpy(request.data(), &len, 4);
  EXPECT_EQ(fs_->Send(request).error, EINVAL);
  len = 8;
  std::memcpy(request.data(), &len, 4);
  EXPECT_EQ(fs_->Send(request).error, EINVAL);
  // A reply buffer too small for fuse_out_header: dropped, 0 bytes written.
  reply = fs_->Call(Req(FUSE_GETATTR, FUSE_ROOT_ID).Arg(fuse_getattr_in{}), 8);
  EXPECT_EQ(reply.used_len, 0u);
  // Too small for the payload: an error header, not a partial reply.
  EXPECT_EQ(fs_->Call(Req(FUSE_GETATTR, FUSE_ROOT_ID).Arg(fuse_getattr_in{}), 32).error, ERANGE);
  // WRITE claiming more bytes than it carries, or more than max_write.
  uint64_t fh = fs_->Create(FUSE_ROOT_ID, "f").As<fuse_open_out>(sizeof(fuse_entry_out)).fh;
  std::vector<uint8_t> four(4);
  EXPECT_EQ(fs_->Call(Req(FUSE_WRITE, 0).Arg(fuse_write_in{fh, 0, 5, 0, 0, 0, 0}).Raw(four)).error,
            EINVAL);
  EXPECT_EQ(fs_->Write(fh, 1ull << 63, four).error, EINVAL);
  // Unknown node IDs and handles.
  EXPECT_EQ(fs_->GetAttr(0xdeadbeef).error, EBADF);
  EXPECT_EQ(fs_->Read(12345, 0, 10).error, EBADF);
  fuse_getattr_in by_fh{FUSE_GETATTR_FH, 0, 999};
  EXPECT_EQ(fs_->Call(Req(FUSE_GETATTR, FUSE_ROOT_ID).Arg(by_fh)).error, EBADF);
  // Every opcode with no arguments at all: an error or a reply, never a crash.
  for (uint32_t opcode = 1; opcode < 64; ++opcode) {
    if (opcode == FUSE_DESTROY || opcode == FUSE_INIT) continue;
    Reply any = fs_->Call(Req(opcode, FUSE_ROOT_ID));
    EXPECT_TRUE(any.used) << opcode;
  }
}

TEST_F(FsEscapeTest, RandomMutationsNeverCrash) {
  std::mt19937 random(1234);
  std::vector<std::vector<uint8_t>> seeds = {
      Req(FUSE_LOOKUP, FUSE_ROOT_ID).Str("x").Build(1),
      Req(FUSE_MKDIR, FUSE_ROOT_ID).Arg(fuse_mkdir_in{0755, 0}).Str("dir").Build(2),
      Req(FUSE_CREATE, FUSE_ROOT_ID)
          .Arg(fuse_create_in{O_RDWR | O_CREAT, 0644, 0, 0})
          .Str("f")
          .Build(3),
      Req(FUSE_READDIRPLUS, FUSE_ROOT_ID).Arg(fuse_read_in{1, 0, 4096, 0, 0, 0, 0}).Build(4),
      Req(FUSE_BATCH_FORGET, 0).Arg(fuse_batch_forget_in{3, 0}).Build(5),
  };
  fs_->Call(Req(FUSE_OPENDIR, FUSE_ROOT_ID).Arg(fuse_open_in{}));
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> bytes = seeds[random() % seeds.size()];
    int flips = 1 + random() % 4;
    for (int j = 0; j < flips; ++j) bytes[random() % bytes.size()] = static_cast<uint8_t>(random());
    if (random() % 4 == 0) bytes.resize(random() % (bytes.size() + 1));
    Reply reply = fs_->Send(bytes, 64 + random() % 8192, 1 + random() % 1);
    ASSERT_TRUE(reply.used);
  }
  EXPECT_TRUE(std::filesystem::is_empty(outside_));
}

}  // namespace
}  // namespace vk::virtio::fs
