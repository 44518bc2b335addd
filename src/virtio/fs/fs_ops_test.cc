// Functional tests: every supported opcode driven through the real device
// and a fake virtqueue, checked against the host directory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

#include "virtio/fs/fs_test_harness.h"
#include "virtio/testing/fuse_dirents.h"

namespace vk::virtio::fs {
namespace {

using testing::Dirent;
using testing::FsHarness;
using testing::ParseDirents;
using testing::Reply;
using testing::Req;
using testing::TempDir;

std::vector<uint8_t> Bytes(std::string_view text) { return {text.begin(), text.end()}; }
std::string Text(const std::vector<uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void Spit(const std::string& path, std::string_view text) { std::ofstream(path) << text; }

uint64_t Node(const Reply& reply) { return reply.As<fuse_entry_out>().nodeid; }
uint64_t CreatedFh(const Reply& reply) {
  return reply.As<fuse_open_out>(sizeof(fuse_entry_out)).fh;
}

class FsOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = std::make_unique<FsHarness>(FsOptions{dir_.path(), "share"});
    ASSERT_EQ(fs_->Init().error, 0);
  }
  // Creates `name` under `parent` and returns (node, fh).
  std::pair<uint64_t, uint64_t> MakeFile(uint64_t parent, std::string_view name) {
    Reply reply = fs_->Create(parent, name);
    EXPECT_EQ(reply.error, 0) << name;
    return {Node(reply), CreatedFh(reply)};
  }

  TempDir dir_;
  std::unique_ptr<FsHarness> fs_;
};

TEST_F(FsOpsTest, InitNegotiatesLimitsAndFlags) {
  FsHarness fresh({dir_.path(), "share"});
  EXPECT_EQ(fresh.Lookup(FUSE_ROOT_ID, "x").error, EIO);  // before INIT
  EXPECT_EQ(fresh.Init(30).error, EPROTO);
  Reply reply = fresh.Init();
  ASSERT_EQ(reply.error, 0);
  auto out = reply.As<fuse_init_out>();
  EXPECT_EQ(out.major, 7u);
  EXPECT_EQ(out.max_write, 1u << 20);
  EXPECT_EQ(out.max_pages, 256);
  EXPECT_TRUE(out.flags & FUSE_DO_READDIRPLUS);
  EXPECT_FALSE(out.flags & FUSE_POSIX_LOCKS);  // asked for, not offered
  EXPECT_EQ(fresh.Init().error, EIO);          // only once
}

TEST_F(FsOpsTest, LookupAndGetAttr) {
  Spit(dir_ / "hello", "hello");
  Reply first = fs_->Lookup(FUSE_ROOT_ID, "hello");
  ASSERT_EQ(first.error, 0);
  auto entry = first.As<fuse_entry_out>();
  EXPECT_EQ(entry.attr.size, 5u);
  EXPECT_TRUE(S_ISREG(entry.attr.mode));
  EXPECT_EQ(Node(fs_->Lookup(FUSE_ROOT_ID, "hello")), entry.nodeid);  // same inode, same ID
  Reply attr = fs_->GetAttr(entry.nodeid);
  ASSERT_EQ(attr.error, 0);
  EXPECT_EQ(attr.As<fuse_attr_out>().attr.ino, entry.attr.ino);
  EXPECT_EQ(fs_->Lookup(FUSE_ROOT_ID, "missing").error, ENOENT);
  EXPECT_EQ(fs_->GetAttr(FUSE_ROOT_ID).error, 0);
}

TEST_F(FsOpsTest, CreateWriteReadOwnedByUs) {
  auto [node, fh] = MakeFile(FUSE_ROOT_ID, "f");
  Reply written = fs_->Write(fh, 0, Bytes("data!"));
  ASSERT_EQ(written.error, 0);
  EXPECT_EQ(written.As<fuse_write_out>().size, 5u);
  Reply read = fs_->Read(fh, 1, 100);
  ASSERT_EQ(read.error, 0);
  EXPECT_EQ(Text(read.body), "ata!");
  EXPECT_EQ(Slurp(dir_ / "f"), "data!");
  struct stat st;
  ASSERT_EQ(::stat((dir_ / "f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(fs_->Release(fh).error, 0);
  EXPECT_EQ(fs_->Read(fh, 0, 10).error, EBADF);
  Reply opened = fs_->Open(node, O_RDONLY);
  ASSERT_EQ(opened.error, 0);
  EXPECT_EQ(Text(fs_->Read(opened.As<fuse_open_out>().fh, 0, 10).body), "data!");
  EXPECT_EQ(fs_->Create(FUSE_ROOT_ID, "f", O_RDWR | O_EXCL).error, EEXIST);
}

TEST_F(FsOpsTest, MkdirAndReadDirPlus) {
  Reply dir = fs_->Mkdir(FUSE_ROOT_ID, "d");
  ASSERT_EQ(dir.error, 0);
  EXPECT_TRUE(S_ISDIR(dir.As<fuse_entry_out>().attr.mode));
  uint64_t d = Node(dir);
  MakeFile(d, "a");
  MakeFile(d, "b");
  ASSERT_EQ(fs_->Mkdir(d, "sub").error, 0);
  Reply opened = fs_->Call(Req(FUSE_OPENDIR, d).Arg(fuse_open_in{}));
  ASSERT_EQ(opened.error, 0);
  uint64_t fh = opened.As<fuse_open_out>().fh;
  fuse_read_in in{};
  in.fh = fh;
  in.size = 4096;
  auto plain = ParseDirents(fs_->Call(Req(FUSE_READDIR, d).Arg(in)).body, false);
  std::set<std::string> names;
  for (auto& e : plain) names.insert(e.name);
  EXPECT_EQ(names, (std::set<std::string>{".", "..", "a", "b", "sub"}));
  auto plus = ParseDirents(fs_->Call(Req(FUSE_READDIRPLUS, d).Arg(in)).body, true);
  ASSERT_EQ(plus.size(), 5u);
  for (auto& e : plus) {
    if (e.name == "." || e.name == "..") {
      EXPECT_EQ(e.nodeid, 0u);
    } else {
      EXPECT_EQ(e.nodeid, Node(fs_->Lookup(d, e.name))) << e.name;
      EXPECT_EQ(S_ISDIR(e.mode), e.name == "sub");
    }
  }
  // A tiny buffer returns one entry per call; offsets resume where it stopped.
  std::set<std::string> paged;
  in.size = 40;
  for (int i = 0; i < 10; ++i) {
    auto page = ParseDirents(fs_->Call(Req(FUSE_READDIR, d).Arg(in)).body, false);
    if (page.empty()) break;
    EXPECT_EQ(page.size(), 1u);
    paged.insert(page[0].name);
    in.offset = page.back().off;
  }
  EXPECT_EQ(paged, names);
  EXPECT_EQ(fs_->Release(fh, FUSE_RELEASEDIR).error, 0);
  EXPECT_EQ(fs_->Release(fh, FUSE_RELEASEDIR).error, EBADF);
}

TEST_F(FsOpsTest, Rename2NoReplaceAndExchange) {
  Spit(dir_ / "x", "X");
  Spit(dir_ / "y", "Y");
  uint64_t x = Node(fs_->Lookup(FUSE_ROOT_ID, "x"));
  auto rename2 = [&](std::string_view from, std::string_view to, uint32_t flags) {
    fuse_rename2_in in{};
    in.newdir = FUSE_ROOT_ID;
    in.flags = flags;
    return fs_->Call(Req(FUSE_RENAME2, FUSE_ROOT_ID).Arg(in).Str(from).Str(to)).error;
  };
  EXPECT_EQ(rename2("x", "y", RENAME_NOREPLACE), EEXIST);
  EXPECT_EQ(rename2("x", "y", RENAME_EXCHANGE), 0);
  EXPECT_EQ(Slurp(dir_ / "x"), "Y");
  EXPECT_EQ(Slurp(dir_ / "y"), "X");
  EXPECT_EQ(rename2("x", "y", 1u << 7), EINVAL);
  fuse_rename_in plain{FUSE_ROOT_ID};
  EXPECT_EQ(fs_->Call(Req(FUSE_RENAME, FUSE_ROOT_ID).Arg(plain).Str("y").Str("z")).error, 0);
  // The inode first seen as "x" now lives at "z" and still opens.
  Reply opened = fs_->Open(x, O_RDONLY);
  ASSERT_EQ(opened.error, 0);
  EXPECT_EQ(Text(fs_->Read(opened.As<fuse_open_out>().fh, 0, 10).body), "X");
}

TEST_F(FsOpsTest, HardLink) {
  auto [node, fh] = MakeFile(FUSE_ROOT_ID, "orig");
  Reply linked = fs_->Call(Req(FUSE_LINK, FUSE_ROOT_ID).Arg(fuse_link_in{node}).Str("again"));
  ASSERT_EQ(linked.error, 0);
  EXPECT_EQ(Node(linked), node);
  EXPECT_EQ(linked.As<fuse_entry_out>().attr.nlink, 2u);
  struct stat a, b;
  ASSERT_EQ(::stat((dir_ / "orig").c_str(), &a), 0);
  ASSERT_EQ(::stat((dir_ / "again").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
}

TEST_F(FsOpsTest, SymlinkAndReadlink) {
  Reply made = fs_->Call(Req(FUSE_SYMLINK, FUSE_ROOT_ID).Str("s").Str("some/target"));
  ASSERT_EQ(made.error, 0);
  EXPECT_TRUE(S_ISLNK(made.As<fuse_entry_out>().attr.mode));
  Reply target = fs_->Call(Req(FUSE_READLINK, Node(made)));
  ASSERT_EQ(target.error, 0);
  EXPECT_EQ(Text(target.body), "some/target");
  char host[64] = {};
  ASSERT_GT(::readlink((dir_ / "s").c_str(), host, sizeof(host)), 0);
  EXPECT_STREQ(host, "some/target");
  EXPECT_EQ(fs_->Call(Req(FUSE_READLINK, FUSE_ROOT_ID)).error, EINVAL);
}

TEST_F(FsOpsTest, UnlinkAndRmdir) {
  MakeFile(FUSE_ROOT_ID, "f");
  uint64_t d = Node(fs_->Mkdir(FUSE_ROOT_ID, "d"));
  MakeFile(d, "inner");
  EXPECT_EQ(fs_->Call(Req(FUSE_RMDIR, FUSE_ROOT_ID).Str("d")).error, ENOTEMPTY);
  EXPECT_EQ(fs_->Call(Req(FUSE_UNLINK, d).Str("inner")).error, 0);
  EXPECT_EQ(fs_->Call(Req(FUSE_RMDIR, FUSE_ROOT_ID).Str("d")).error, 0);
  EXPECT_EQ(fs_->Call(Req(FUSE_UNLINK, FUSE_ROOT_ID).Str("f")).error, 0);
  EXPECT_EQ(fs_->Call(Req(FUSE_UNLINK, FUSE_ROOT_ID).Str("f")).error, ENOENT);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "d"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "f"));
}

TEST_F(FsOpsTest, SetAttrTruncateModeTimes) {
  Spit(dir_ / "t", std::string(100, 'a'));
  uint64_t node = Node(fs_->Lookup(FUSE_ROOT_ID, "t"));
  fuse_setattr_in in{};
  in.valid = FATTR_SIZE | FATTR_MODE | FATTR_MTIME;
  in.size = 10;
  in.mode = 04755;  // the set-uid bit must not reach the host
  in.mtime = 1000000000;
  Reply reply = fs_->Call(Req(FUSE_SETATTR, node).Arg(in));
  ASSERT_EQ(reply.error, 0);
  auto attr = reply.As<fuse_attr_out>().attr;
  EXPECT_EQ(attr.size, 10u);
  EXPECT_EQ(attr.mode & 07777, 0755u);
  EXPECT_EQ(attr.mtime, 1000000000u);
  EXPECT_EQ(std::filesystem::file_size(dir_ / "t"), 10u);
  Reply opened = fs_->Open(node, O_RDWR);
  in = {};
  in.valid = FATTR_SIZE | FATTR_FH;
  in.fh = opened.As<fuse_open_out>().fh;
  in.size = 3;
  EXPECT_EQ(fs_->Call(Req(FUSE_SETATTR, node).Arg(in)).As<fuse_attr_out>().attr.size, 3u);
  in = {};
  in.valid = FATTR_UID | FATTR_GID;
  in.uid = ::geteuid();
  in.gid = ::getegid();
  EXPECT_EQ(fs_->Call(Req(FUSE_SETATTR, node).Arg(in)).error, 0);
}

TEST_F(FsOpsTest, Xattrs) {
  uint64_t node = MakeFile(FUSE_ROOT_ID, "x").first;
  fuse_getxattr_in probe{};
  auto set = [&](std::string_view name, std::string_view value) {
    uint32_t header[2] = {static_cast<uint32_t>(value.size()), 0};
    return fs_->Call(Req(FUSE_SETXATTR, node).Arg(header).Str(name).Raw(Bytes(value))).error;
  };
  int error = set("user.test", "val");
  if (error == EOPNOTSUPP) GTEST_SKIP() << "no user xattrs on this filesystem";
  ASSERT_EQ(error, 0);
  EXPECT_EQ(set("security.capability", "x"), EPERM);
  Reply size = fs_->Call(Req(FUSE_GETXATTR, node).Arg(probe).Str("user.test"));
  EXPECT_EQ(size.As<fuse_getxattr_out>().size, 3u);
  probe.size = 64;
  EXPECT_EQ(Text(fs_->Call(Req(FUSE_GETXATTR, node).Arg(probe).Str("user.test")).body), "val");
  std::string list = Text(fs_->Call(Req(FUSE_LISTXATTR, node).Arg(probe)).body);
  EXPECT_NE(list.find(std::string("user.test\0", 10)), std::string::npos);
  probe.size = 1;
  EXPECT_EQ(fs_->Call(Req(FUSE_GETXATTR, node).Arg(probe).Str("user.test")).error, ERANGE);
  EXPECT_EQ(fs_->Call(Req(FUSE_REMOVEXATTR, node).Str("user.test")).error, 0);
  probe.size = 64;
  EXPECT_EQ(fs_->Call(Req(FUSE_GETXATTR, node).Arg(probe).Str("user.test")).error, ENODATA);
}

TEST_F(FsOpsTest, FallocateAndLseekDataHole) {
  auto [node, fh] = MakeFile(FUSE_ROOT_ID, "sparse");
  fuse_fallocate_in fa{};
  fa.fh = fh;
  fa.length = 8192;
  ASSERT_EQ(fs_->Call(Req(FUSE_FALLOCATE, node).Arg(fa)).error, 0);
  EXPECT_EQ(std::filesystem::file_size(dir_ / "sparse"), 8192u);
  fa.mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
  EXPECT_EQ(fs_->Call(Req(FUSE_FALLOCATE, node).Arg(fa)).error, 0);
  fa.mode = 0x100;  // unknown mode bit
  EXPECT_EQ(fs_->Call(Req(FUSE_FALLOCATE, node).Arg(fa)).error, EOPNOTSUPP);
  std::vector<uint8_t> block(4096, 7);
  ASSERT_EQ(fs_->Write(fh, 1 << 20, block).error, 0);
  int host = ::open((dir_ / "sparse").c_str(), O_RDONLY);
  for (int whence : {SEEK_DATA, SEEK_HOLE}) {
    fuse_lseek_in in{fh, 0, static_cast<uint32_t>(whence), 0};
    Reply reply = fs_->Call(Req(FUSE_LSEEK, node).Arg(in));
    ASSERT_EQ(reply.error, 0);
    EXPECT_EQ(reply.As<fuse_lseek_out>().offset, static_cast<uint64_t>(::lseek(host, 0, whence)));
  }
  ::close(host);
  fuse_lseek_in bad{fh, 0, 42, 0};
  EXPECT_EQ(fs_->Call(Req(FUSE_LSEEK, node).Arg(bad)).error, EINVAL);
}

TEST_F(FsOpsTest, CopyFileRange) {
  auto [a, fa] = MakeFile(FUSE_ROOT_ID, "a");
  auto [b, fb] = MakeFile(FUSE_ROOT_ID, "b");
  ASSERT_EQ(fs_->Write(fa, 0, Bytes("0123456789")).error, 0);
  fuse_copy_file_range_in in{};
  in.fh_in = fa;
  in.off_in = 2;
  in.nodeid_out = b;
  in.fh_out = fb;
  in.len = 5;
  Reply reply = fs_->Call(Req(FUSE_COPY_FILE_RANGE, a).Arg(in));
  ASSERT_EQ(reply.error, 0);
  EXPECT_EQ(reply.As<fuse_write_out>().size, 5u);
  EXPECT_EQ(Slurp(dir_ / "b"), "23456");
}

TEST_F(FsOpsTest, StatFsAccessFsync) {
  Reply st = fs_->Call(Req(FUSE_STATFS, FUSE_ROOT_ID));
  ASSERT_EQ(st.error, 0);
  EXPECT_GT(st.As<fuse_statfs_out>().st.blocks, 0u);
  EXPECT_EQ(st.As<fuse_statfs_out>().st.namelen, 255u);
  EXPECT_EQ(fs_->Call(Req(FUSE_ACCESS, FUSE_ROOT_ID).Arg(fuse_access_in{R_OK | X_OK, 0})).error, 0);
  auto [node, fh] = MakeFile(FUSE_ROOT_ID, "f");
  EXPECT_EQ(fs_->Call(Req(FUSE_FSYNC, node).Arg(fuse_fsync_in{fh, 0, 0})).error, 0);
  fuse_flush_in flush{};
  flush.fh = fh;
  EXPECT_EQ(fs_->Call(Req(FUSE_FLUSH, node).Arg(flush)).error, 0);
}

TEST_F(FsOpsTest, ForgetDropsTheInode) {
  Spit(dir_ / "f", "");
  uint64_t node = Node(fs_->Lookup(FUSE_ROOT_ID, "f"));
  ASSERT_EQ(Node(fs_->Lookup(FUSE_ROOT_ID, "f")), node);
  // FORGET goes on the hiprio queue and gets no reply.
  Reply forget = fs_->Call(Req(FUSE_FORGET, node).Arg(fuse_forget_in{1}), 8192, 0);
  EXPECT_TRUE(forget.used);
  EXPECT_EQ(forget.used_len, 0u);
  EXPECT_EQ(fs_->GetAttr(node).error, 0);  // one reference left
  fuse_batch_forget_in batch{2, 0};
  fuse_forget_one one{node, 1};
  fs_->Call(Req(FUSE_BATCH_FORGET, 0).Arg(batch).Arg(one), 8192, 0);  // count > entries
  EXPECT_EQ(fs_->GetAttr(node).error, EBADF);
  fs_->Call(Req(FUSE_FORGET, FUSE_ROOT_ID).Arg(fuse_forget_in{100}), 8192, 0);
  EXPECT_EQ(fs_->GetAttr(FUSE_ROOT_ID).error, 0);         // the root is never forgotten
  EXPECT_NE(Node(fs_->Lookup(FUSE_ROOT_ID, "f")), node);  // IDs are not reused
}

TEST_F(FsOpsTest, UnknownOpcodesAndDestroy) {
  EXPECT_EQ(fs_->Call(Req(FUSE_GETLK, FUSE_ROOT_ID)).error, ENOSYS);
  EXPECT_EQ(fs_->Call(Req(4242, FUSE_ROOT_ID)).error, ENOSYS);
  Reply interrupt = fs_->Call(Req(FUSE_INTERRUPT, 0).Arg(fuse_interrupt_in{7}), 8192, 0);
  EXPECT_EQ(interrupt.used_len, 0u);
  EXPECT_EQ(fs_->Call(Req(FUSE_DESTROY, 0)).error, 0);
  EXPECT_EQ(fs_->GetAttr(FUSE_ROOT_ID).error, EIO);
  EXPECT_EQ(fs_->Init().error, 0);
  EXPECT_EQ(fs_->GetAttr(FUSE_ROOT_ID).error, 0);
}

TEST_F(FsOpsTest, MknodFifoButNoDevices) {
  fuse_mknod_in fifo{S_IFIFO | 0644, 0, 0, 0};
  Reply made = fs_->Call(Req(FUSE_MKNOD, FUSE_ROOT_ID).Arg(fifo).Str("p"));
  ASSERT_EQ(made.error, 0);
  EXPECT_TRUE(S_ISFIFO(made.As<fuse_entry_out>().attr.mode));
  EXPECT_EQ(fs_->Open(Node(made), O_RDONLY).error, EACCES);  // never opened on the host
  fuse_mknod_in disk{S_IFBLK | 0600, (8u << 8) | 0, 0, 0};
  EXPECT_EQ(fs_->Call(Req(FUSE_MKNOD, FUSE_ROOT_ID).Arg(disk).Str("sda")).error, EPERM);
}

}  // namespace
}  // namespace vk::virtio::fs
