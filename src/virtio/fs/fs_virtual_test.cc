// Virtual entries (passthrough.h, "Virtual entries"): in-memory read-only
// files and directories over a host share or alone, driven through the real
// device and a fake virtqueue.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <fstream>
#include <map>
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

// File data is not copied by the server: it lives for the whole test binary.
constexpr std::string_view kMotd = "hello from memory\n";
constexpr std::string_view kHosts = "127.0.0.1 localhost\n";
constexpr std::string_view kShadow = "virtual wins";
constexpr std::string_view kSecret = "s3cret";

std::span<const uint8_t> Data(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}
std::string Text(const std::vector<uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }
std::vector<uint8_t> Bytes(std::string_view text) { return {text.begin(), text.end()}; }
uint64_t Node(const Reply& reply) { return reply.As<fuse_entry_out>().nodeid; }
uint64_t Fh(const Reply& reply) { return reply.As<fuse_open_out>().fh; }

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}
void Spit(const std::string& path, std::string_view text) { std::ofstream(path) << text; }

VirtualEntry File(std::string name, std::string_view data, bool one_shot = false) {
  return VirtualEntry{std::move(name), S_IFREG | 0444, Data(data), one_shot, {}};
}
VirtualEntry Dir(std::string name, std::vector<VirtualEntry> children = {}) {
  return VirtualEntry{std::move(name), S_IFDIR | 0555, {}, false, std::move(children)};
}

// The tree most tests use: /motd, /etc/hosts, /shadowed (over a host file
// of that name), /secret (one_shot, over a host file too).
std::vector<VirtualEntry> Entries() {
  std::vector<VirtualEntry> root;
  root.push_back(File("motd", kMotd));
  root.push_back(Dir("etc", {File("hosts", kHosts)}));
  root.push_back(File("shadowed", kShadow));
  root.push_back(File("secret", kSecret, /*one_shot=*/true));
  return root;
}

class FsVirtualTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Spit(dir_ / "host.txt", "on the host");
    Spit(dir_ / "shadowed", "host loses");
    Spit(dir_ / "secret", "host secret");
    std::filesystem::create_directory(dir_ / "hostdir");
    fs_ = Make(dir_.path());
  }
  static std::unique_ptr<FsHarness> Make(const std::string& shared_dir) {
    FsOptions options{shared_dir, "share"};
    options.virtual_entries = Entries();
    auto fs = std::make_unique<FsHarness>(options);
    EXPECT_EQ(fs->Init().error, 0);
    return fs;
  }
  // Reads a whole file through OPEN + READ + RELEASE.
  std::string ReadAll(uint64_t node) {
    Reply opened = fs_->Open(node, O_RDONLY);
    EXPECT_EQ(opened.error, 0);
    std::string text = Text(fs_->Read(Fh(opened), 0, 4096).body);
    EXPECT_EQ(fs_->Release(Fh(opened)).error, 0);
    return text;
  }
  // Every entry of directory `node`, paging with `size`-byte READDIRs.
  std::vector<Dirent> List(uint64_t node, bool plus = false, uint32_t size = 4096) {
    Reply opened = fs_->Call(Req(FUSE_OPENDIR, node).Arg(fuse_open_in{}));
    EXPECT_EQ(opened.error, 0);
    fuse_read_in in{};
    in.fh = Fh(opened);
    in.size = size;
    std::vector<Dirent> all;
    for (int i = 0; i < 1000; ++i) {
      Reply page = fs_->Call(Req(plus ? FUSE_READDIRPLUS : FUSE_READDIR, node).Arg(in));
      EXPECT_EQ(page.error, 0);
      auto entries = ParseDirents(page.body, plus);
      if (entries.empty()) break;
      all.insert(all.end(), entries.begin(), entries.end());
      in.offset = entries.back().off;
    }
    EXPECT_EQ(fs_->Release(in.fh, FUSE_RELEASEDIR).error, 0);
    return all;
  }
  static std::multiset<std::string> Names(const std::vector<Dirent>& entries) {
    std::multiset<std::string> names;
    for (const auto& e : entries) names.insert(e.name);
    return names;
  }

  TempDir dir_;
  std::unique_ptr<FsHarness> fs_;
};

TEST_F(FsVirtualTest, FileAtTheRootOfAHostShare) {
  Reply found = fs_->Lookup(FUSE_ROOT_ID, "motd");
  ASSERT_EQ(found.error, 0);
  auto attr = found.As<fuse_entry_out>().attr;
  EXPECT_EQ(attr.mode, S_IFREG | 0444u);
  EXPECT_EQ(attr.size, kMotd.size());
  EXPECT_EQ(attr.nlink, 1u);
  EXPECT_EQ(attr.uid, ::geteuid());
  EXPECT_EQ(attr.gid, ::getegid());
  EXPECT_GE(attr.ino, VirtualTree::kInoBase);
  EXPECT_GT(attr.mtime, 0u);
  uint64_t node = Node(found);
  EXPECT_EQ(Node(fs_->Lookup(FUSE_ROOT_ID, "motd")), node);  // one ID per entry
  Reply got = fs_->GetAttr(node);
  ASSERT_EQ(got.error, 0);
  EXPECT_EQ(got.As<fuse_attr_out>().attr.ino, attr.ino);
  EXPECT_EQ(got.As<fuse_attr_out>().attr.mtime, attr.mtime);
  EXPECT_EQ(ReadAll(node), kMotd);
  // Host entries are still there, with IDs of their own.
  Reply host = fs_->Lookup(FUSE_ROOT_ID, "host.txt");
  ASSERT_EQ(host.error, 0);
  EXPECT_NE(Node(host), node);
  EXPECT_EQ(ReadAll(Node(host)), "on the host");
  EXPECT_EQ(fs_->Lookup(FUSE_ROOT_ID, "nothing").error, ENOENT);
}

TEST_F(FsVirtualTest, ReadsAtAndPastTheEnd) {
  uint64_t node = Node(fs_->Lookup(FUSE_ROOT_ID, "motd"));
  Reply opened = fs_->Open(node, O_RDONLY);
  ASSERT_EQ(opened.error, 0);
  uint64_t fh = Fh(opened);
  EXPECT_EQ(Text(fs_->Read(fh, 6, 4).body), "from");
  EXPECT_EQ(Text(fs_->Read(fh, 11, 100).body), "memory\n");  // short read at the end
  for (uint64_t offset : {kMotd.size(), kMotd.size() + 1, uint64_t{1} << 40, ~uint64_t{0}}) {
    Reply read = fs_->Read(fh, offset, 100);
    EXPECT_EQ(read.error, 0) << offset;
    EXPECT_TRUE(read.body.empty()) << offset;
  }
  // A huge size is clamped to the data (and the reply buffer).
  fuse_read_in in{};
  in.fh = fh;
  in.size = UINT32_MAX;
  Reply huge = fs_->Call(Req(FUSE_READ, node).Arg(in), sizeof(fuse_out_header) + 8);
  EXPECT_EQ(huge.error, 0);
  EXPECT_EQ(Text(huge.body), kMotd.substr(0, 8));
  fuse_lseek_in seek{fh, 3, SEEK_DATA, 0};
  EXPECT_EQ(fs_->Call(Req(FUSE_LSEEK, node).Arg(seek)).As<fuse_lseek_out>().offset, 3u);
  seek.whence = SEEK_HOLE;
  EXPECT_EQ(fs_->Call(Req(FUSE_LSEEK, node).Arg(seek)).As<fuse_lseek_out>().offset, kMotd.size());
  seek.offset = kMotd.size();
  EXPECT_EQ(fs_->Call(Req(FUSE_LSEEK, node).Arg(seek)).error, ENXIO);
  fuse_getattr_in by_fh{FUSE_GETATTR_FH, 0, fh};
  EXPECT_EQ(fs_->Call(Req(FUSE_GETATTR, node).Arg(by_fh)).As<fuse_attr_out>().attr.size,
            kMotd.size());
  EXPECT_EQ(fs_->Release(fh).error, 0);
  EXPECT_EQ(fs_->Read(fh, 0, 10).error, EBADF);
}

TEST_F(FsVirtualTest, NestedInAVirtualDirectory) {
  Reply etc = fs_->Lookup(FUSE_ROOT_ID, "etc");
  ASSERT_EQ(etc.error, 0);
  EXPECT_EQ(etc.As<fuse_entry_out>().attr.mode, S_IFDIR | 0555u);
  EXPECT_EQ(etc.As<fuse_entry_out>().attr.nlink, 2u);
  uint64_t dir = Node(etc);
  Reply hosts = fs_->Lookup(dir, "hosts");
  ASSERT_EQ(hosts.error, 0);
  EXPECT_EQ(ReadAll(Node(hosts)), kHosts);
  EXPECT_EQ(Node(fs_->Lookup(dir, "..")), FUSE_ROOT_ID);
  EXPECT_EQ(Node(fs_->Lookup(dir, ".")), dir);
  EXPECT_EQ(fs_->Lookup(dir, "motd").error, ENOENT);  // only its own children
  EXPECT_EQ(fs_->Lookup(dir, "a/b").error, EINVAL);
  EXPECT_EQ(fs_->Lookup(Node(hosts), "x").error, ENOTDIR);
  EXPECT_EQ(fs_->Open(dir, O_RDONLY).error, EISDIR);
  EXPECT_EQ(fs_->Call(Req(FUSE_OPENDIR, Node(hosts)).Arg(fuse_open_in{})).error, ENOTDIR);
  EXPECT_EQ(Names(List(dir)), (std::multiset<std::string>{".", "..", "hosts"}));
  auto plus = List(dir, /*plus=*/true);
  ASSERT_EQ(plus.size(), 3u);
  for (const auto& e : plus) {
    EXPECT_EQ(e.nodeid, e.name == "hosts" ? Node(hosts) : 0u) << e.name;
  }
}

TEST_F(FsVirtualTest, ShadowsAHostFileAndListsItOnce) {
  Reply shadowed = fs_->Lookup(FUSE_ROOT_ID, "shadowed");
  ASSERT_EQ(shadowed.error, 0);
  EXPECT_GE(shadowed.As<fuse_entry_out>().attr.ino, VirtualTree::kInoBase);
  EXPECT_EQ(ReadAll(Node(shadowed)), kShadow);
  const std::multiset<std::string> expected = {".",    "..",  "host.txt", "hostdir",
                                               "motd", "etc", "shadowed", "secret"};
  for (bool plus : {false, true}) {
    EXPECT_EQ(Names(List(FUSE_ROOT_ID, plus)), expected) << plus;
    // One entry per READDIR: offsets resume exactly where the last stopped.
    EXPECT_EQ(Names(List(FUSE_ROOT_ID, plus, plus ? 160 : 40)), expected) << plus;
  }
  for (const auto& e : List(FUSE_ROOT_ID, /*plus=*/true)) {
    if (e.name == "." || e.name == ".." || e.name == "secret") {
      EXPECT_EQ(e.nodeid, 0u) << e.name;  // one_shot: listing is not its lookup
    } else {
      EXPECT_EQ(e.nodeid, Node(fs_->Lookup(FUSE_ROOT_ID, e.name))) << e.name;
    }
  }
  EXPECT_EQ(Slurp(dir_ / "shadowed"), "host loses");
}

TEST_F(FsVirtualTest, MergedListingSurvivesSeeksAndManyHostEntries) {
  for (int i = 0; i < 300; ++i) Spit(dir_ / ("f" + std::to_string(i)), "");
  auto all = List(FUSE_ROOT_ID);
  EXPECT_EQ(all.size(), 300u + 8u);
  auto names = Names(all);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), all.size());
  // Seeking back to any offset handed out lists the rest again.
  Reply opened = fs_->Call(Req(FUSE_OPENDIR, FUSE_ROOT_ID).Arg(fuse_open_in{}));
  fuse_read_in in{};
  in.fh = Fh(opened);
  in.size = 1 << 16;
  for (size_t at : {size_t{150}, size_t{2}, size_t{0}, size_t{299}}) {
    in.offset = at == 0 ? 0 : all[at - 1].off;
    Reply page = fs_->Call(Req(FUSE_READDIR, FUSE_ROOT_ID).Arg(in), 1 << 16);
    auto rest = ParseDirents(page.body, false);
    ASSERT_EQ(rest.size(), all.size() - at) << at;
    EXPECT_EQ(rest.front().name, all[at].name) << at;
  }
  in.offset = ~uint64_t{0};  // guest-controlled: past the end is an empty page
  EXPECT_TRUE(fs_->Call(Req(FUSE_READDIR, FUSE_ROOT_ID).Arg(in)).body.empty());
}

TEST_F(FsVirtualTest, OneShotDisappearsAfterItsFirstLookup) {
  Reply first = fs_->Lookup(FUSE_ROOT_ID, "secret");
  ASSERT_EQ(first.error, 0);
  EXPECT_EQ(first.As<fuse_entry_out>().entry_valid, 0u);  // the guest must ask again
  uint64_t node = Node(first);
  // Gone by name: the host file it shadowed shows through again.
  Reply second = fs_->Lookup(FUSE_ROOT_ID, "secret");
  ASSERT_EQ(second.error, 0);
  EXPECT_NE(Node(second), node);
  EXPECT_EQ(ReadAll(Node(second)), "host secret");
  EXPECT_EQ(ReadAll(node), kSecret);  // the inode the guest holds still reads
  auto names = Names(List(FUSE_ROOT_ID));
  EXPECT_EQ(names.count("secret"), 1u);  // the host's, once
  // After FORGET the node is gone for good.
  fs_->Call(Req(FUSE_FORGET, node).Arg(fuse_forget_in{1}), 8192, 0);
  EXPECT_EQ(fs_->GetAttr(node).error, EBADF);
  // Destroy + Init (a remount) does not bring it back.
  ASSERT_EQ(fs_->Call(Req(FUSE_DESTROY, 0)).error, 0);
  ASSERT_EQ(fs_->Init().error, 0);
  EXPECT_LT(fs_->Lookup(FUSE_ROOT_ID, "secret").As<fuse_entry_out>().attr.ino,
            VirtualTree::kInoBase);
}

TEST_F(FsVirtualTest, OneShotWithNothingBehindItIsENOENT) {
  std::vector<VirtualEntry> entries;
  ASSERT_TRUE(AddVirtualEntry(entries, "dir", Dir("")).ok());
  ASSERT_TRUE(AddVirtualEntry(entries, "dir/once", File("", kSecret, true)).ok());
  FsOptions options{"", "only"};
  options.virtual_entries = entries;
  FsHarness fs(options);
  ASSERT_EQ(fs.Init().error, 0);
  uint64_t dir = Node(fs.Lookup(FUSE_ROOT_ID, "dir"));
  Reply first = fs.Lookup(dir, "once");
  ASSERT_EQ(first.error, 0);
  EXPECT_EQ(fs.Lookup(dir, "once").error, ENOENT);
  Reply opened = fs.Open(Node(first), O_RDONLY);
  ASSERT_EQ(opened.error, 0);
  EXPECT_EQ(Text(fs.Read(Fh(opened), 0, 100).body), kSecret);
  Reply listed = fs.Call(Req(FUSE_OPENDIR, dir).Arg(fuse_open_in{}));
  fuse_read_in in{};
  in.fh = Fh(listed);
  in.size = 4096;
  auto entries_now = ParseDirents(fs.Call(Req(FUSE_READDIR, dir).Arg(in)).body, false);
  EXPECT_EQ(entries_now.size(), 2u);  // "." and ".."
}

TEST_F(FsVirtualTest, VirtualOnlyShare) {
  auto fs = Make("");
  Reply root = fs->GetAttr(FUSE_ROOT_ID);
  ASSERT_EQ(root.error, 0);
  auto attr = root.As<fuse_attr_out>().attr;
  EXPECT_EQ(attr.mode, S_IFDIR | 0755u);
  EXPECT_EQ(attr.uid, ::geteuid());
  EXPECT_EQ(attr.gid, ::getegid());
  EXPECT_EQ(Node(fs->Lookup(FUSE_ROOT_ID, "..")), FUSE_ROOT_ID);
  EXPECT_EQ(fs->Lookup(FUSE_ROOT_ID, "host.txt").error, ENOENT);
  uint64_t motd = Node(fs->Lookup(FUSE_ROOT_ID, "motd"));
  EXPECT_NE(motd, FUSE_ROOT_ID);
  uint64_t etc = Node(fs->Lookup(FUSE_ROOT_ID, "etc"));
  EXPECT_EQ(Node(fs->Lookup(etc, "..")), FUSE_ROOT_ID);
  Reply opened = fs->Call(Req(FUSE_OPENDIR, FUSE_ROOT_ID).Arg(fuse_open_in{}));
  ASSERT_EQ(opened.error, 0);
  fuse_read_in in{};
  in.fh = Fh(opened);
  in.size = 4096;
  auto entries = ParseDirents(fs->Call(Req(FUSE_READDIR, FUSE_ROOT_ID).Arg(in)).body, false);
  EXPECT_EQ(Names(entries),
            (std::multiset<std::string>{".", "..", "motd", "etc", "shadowed", "secret"}));
  Reply statfs = fs->Call(Req(FUSE_STATFS, FUSE_ROOT_ID));
  ASSERT_EQ(statfs.error, 0);
  EXPECT_EQ(statfs.As<fuse_statfs_out>().st.namelen, 255u);
  EXPECT_EQ(fs->Mkdir(FUSE_ROOT_ID, "new").error, EROFS);
  EXPECT_EQ(fs->Create(FUSE_ROOT_ID, "new").error, EROFS);
  EXPECT_EQ(fs->Call(Req(FUSE_ACCESS, FUSE_ROOT_ID).Arg(fuse_access_in{R_OK | X_OK, 0})).error, 0);
  EXPECT_EQ(fs->Call(Req(FUSE_ACCESS, FUSE_ROOT_ID).Arg(fuse_access_in{W_OK, 0})).error, EROFS);
  // FORGET of the root is ignored, of a virtual node honoured.
  fs->Call(Req(FUSE_FORGET, FUSE_ROOT_ID).Arg(fuse_forget_in{100}), 8192, 0);
  EXPECT_EQ(fs->GetAttr(FUSE_ROOT_ID).error, 0);
  fs->Call(Req(FUSE_FORGET, motd).Arg(fuse_forget_in{1}), 8192, 0);
  EXPECT_EQ(fs->GetAttr(motd).error, EBADF);
  EXPECT_GT(Node(fs->Lookup(FUSE_ROOT_ID, "motd")), motd);  // IDs are not reused
  // An empty share is a valid (empty) directory too.
  FsHarness empty(FsOptions{"", "empty"});
  ASSERT_EQ(empty.Init().error, 0);
  EXPECT_EQ(empty.GetAttr(FUSE_ROOT_ID).error, 0);
  EXPECT_EQ(empty.Lookup(FUSE_ROOT_ID, "x").error, ENOENT);
}

TEST_F(FsVirtualTest, NodeIdsNeverCollideWithHostIds) {
  std::set<uint64_t> ids;
  for (const char* name : {"motd", "etc", "host.txt", "hostdir", "shadowed"}) {
    ids.insert(Node(fs_->Lookup(FUSE_ROOT_ID, name)));
  }
  uint64_t etc = Node(fs_->Lookup(FUSE_ROOT_ID, "etc"));
  ids.insert(Node(fs_->Lookup(etc, "hosts")));
  uint64_t hostdir = Node(fs_->Lookup(FUSE_ROOT_ID, "hostdir"));
  for (int i = 0; i < 5; ++i) {
    ids.insert(Node(fs_->Create(hostdir, "n" + std::to_string(i))));
  }
  EXPECT_EQ(ids.size(), 11u);
  EXPECT_EQ(ids.count(FUSE_ROOT_ID), 0u);
  // Host-only ops handed a virtual ID fail without touching the host.
  EXPECT_EQ(fs_->Call(Req(FUSE_READLINK, etc)).error, EINVAL);
  fuse_read_in in{};
  in.fh = Fh(fs_->Call(Req(FUSE_OPENDIR, etc).Arg(fuse_open_in{})));
  in.size = 100;
  EXPECT_EQ(fs_->Call(Req(FUSE_READ, etc).Arg(in)).error, EBADF);  // a dir handle is no file
}

TEST_F(FsVirtualTest, EveryModifyingOpIsEROFS) {
  uint64_t motd = Node(fs_->Lookup(FUSE_ROOT_ID, "motd"));
  uint64_t etc = Node(fs_->Lookup(FUSE_ROOT_ID, "etc"));
  uint64_t host = Node(fs_->Lookup(FUSE_ROOT_ID, "host.txt"));
  uint64_t fh = Fh(fs_->Open(motd, O_RDONLY));
  auto call = [&](const Req& request) { return fs_->Call(request).error; };
  fuse_setattr_in setattr{};
  setattr.valid = FATTR_MODE;
  setattr.mode = 0777;
  EXPECT_EQ(call(Req(FUSE_SETATTR, motd).Arg(setattr)), EROFS);
  setattr.valid = FATTR_SIZE;
  EXPECT_EQ(call(Req(FUSE_SETATTR, etc).Arg(setattr)), EROFS);
  for (uint32_t flags : {O_WRONLY, O_RDWR, O_RDONLY | O_TRUNC}) {
    EXPECT_EQ(fs_->Open(motd, flags).error, EROFS) << flags;
  }
  EXPECT_EQ(fs_->Write(fh, 0, Bytes("x")).error, EROFS);
  fuse_fallocate_in fallocate{};
  fallocate.fh = fh;
  fallocate.length = 10;
  EXPECT_EQ(call(Req(FUSE_FALLOCATE, motd).Arg(fallocate)), EROFS);
  uint64_t host_fh = Fh(fs_->Open(host, O_RDWR));
  fuse_copy_file_range_in copy{};
  copy.fh_in = host_fh;
  copy.fh_out = fh;
  copy.len = 4;
  EXPECT_EQ(call(Req(FUSE_COPY_FILE_RANGE, host).Arg(copy)), EROFS);
  std::swap(copy.fh_in, copy.fh_out);
  EXPECT_EQ(call(Req(FUSE_COPY_FILE_RANGE, motd).Arg(copy)), EOPNOTSUPP);  // guest falls back
  // Names: in a virtual directory, or a virtual name in the root.
  for (auto [parent, name] :
       {std::pair{etc, "new"}, std::pair{etc, "hosts"}, std::pair{uint64_t{FUSE_ROOT_ID}, "motd"},
        std::pair{uint64_t{FUSE_ROOT_ID}, "etc"}}) {
    EXPECT_EQ(fs_->Create(parent, name).error, EROFS) << name;
    EXPECT_EQ(fs_->Create(parent, name, O_RDWR | O_EXCL).error, EROFS) << name;
    EXPECT_EQ(fs_->Mkdir(parent, name).error, EROFS) << name;
    fuse_mknod_in fifo{S_IFIFO | 0644, 0, 0, 0};
    EXPECT_EQ(call(Req(FUSE_MKNOD, parent).Arg(fifo).Str(name)), EROFS) << name;
    EXPECT_EQ(call(Req(FUSE_SYMLINK, parent).Str(name).Str("target")), EROFS) << name;
    EXPECT_EQ(call(Req(FUSE_LINK, parent).Arg(fuse_link_in{host}).Str(name)), EROFS) << name;
    EXPECT_EQ(call(Req(FUSE_UNLINK, parent).Str(name)), EROFS) << name;
    EXPECT_EQ(call(Req(FUSE_RMDIR, parent).Str(name)), EROFS) << name;
    fuse_rename_in away{FUSE_ROOT_ID};
    EXPECT_EQ(call(Req(FUSE_RENAME, parent).Arg(away).Str(name).Str("moved")), EROFS) << name;
    fuse_rename2_in into{};
    into.newdir = parent;
    EXPECT_EQ(call(Req(FUSE_RENAME2, FUSE_ROOT_ID).Arg(into).Str("host.txt").Str(name)), EROFS)
        << name;
    into.flags = RENAME_EXCHANGE;
    EXPECT_EQ(call(Req(FUSE_RENAME2, FUSE_ROOT_ID).Arg(into).Str("host.txt").Str(name)), EROFS)
        << name;
  }
  // A virtual inode as the old side of LINK.
  EXPECT_EQ(call(Req(FUSE_LINK, FUSE_ROOT_ID).Arg(fuse_link_in{motd}).Str("alias")), EROFS);
  // Xattrs: none, and none can be set.
  uint32_t header[2] = {3, 0};
  for (uint64_t node : {motd, etc}) {
    EXPECT_EQ(call(Req(FUSE_SETXATTR, node).Arg(header).Str("user.x").Raw(Bytes("val"))), EROFS);
    EXPECT_EQ(call(Req(FUSE_REMOVEXATTR, node).Str("user.x")), EROFS);
    fuse_getxattr_in probe{};
    EXPECT_EQ(call(Req(FUSE_GETXATTR, node).Arg(probe).Str("user.x")), ENODATA);
    Reply list = fs_->Call(Req(FUSE_LISTXATTR, node).Arg(probe));
    EXPECT_EQ(list.error, 0);
    EXPECT_EQ(list.As<fuse_getxattr_out>().size, 0u);
    probe.size = 64;
    list = fs_->Call(Req(FUSE_LISTXATTR, node).Arg(probe));
    EXPECT_EQ(list.error, 0);
    EXPECT_TRUE(list.body.empty());
    EXPECT_EQ(call(Req(FUSE_READLINK, node)), EINVAL);
    EXPECT_EQ(call(Req(FUSE_ACCESS, node).Arg(fuse_access_in{W_OK, 0})), EROFS);
  }
  EXPECT_EQ(call(Req(FUSE_ACCESS, motd).Arg(fuse_access_in{R_OK, 0})), 0);
  EXPECT_EQ(call(Req(FUSE_ACCESS, motd).Arg(fuse_access_in{X_OK, 0})), EACCES);
  // The host saw none of it; host names next to the virtual ones still work.
  EXPECT_EQ(Slurp(dir_ / "host.txt"), "on the host");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "new"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "motd"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "etc"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "moved"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "alias"));
  EXPECT_EQ(fs_->Create(FUSE_ROOT_ID, "fine").error, 0);
  EXPECT_EQ(call(Req(FUSE_UNLINK, FUSE_ROOT_ID).Str("fine")), 0);
  // Reading still works after all that.
  EXPECT_EQ(Text(fs_->Read(fh, 0, 5).body), "hello");
  EXPECT_EQ(fs_->Call(Req(FUSE_FSYNC, motd).Arg(fuse_fsync_in{fh, 0, 0})).error, 0);
  fuse_flush_in flush{};
  flush.fh = fh;
  EXPECT_EQ(fs_->Call(Req(FUSE_FLUSH, motd).Arg(flush)).error, 0);
}

TEST_F(FsVirtualTest, ReadOnlyShareStillServesVirtualEntries) {
  FsOptions options{dir_.path(), "ro", /*read_only=*/true};
  options.virtual_entries = Entries();
  FsHarness fs(options);
  ASSERT_EQ(fs.Init().error, 0);
  uint64_t motd = Node(fs.Lookup(FUSE_ROOT_ID, "motd"));
  Reply opened = fs.Open(motd, O_RDONLY);
  ASSERT_EQ(opened.error, 0);
  EXPECT_EQ(Text(fs.Read(Fh(opened), 0, 100).body), kMotd);
  EXPECT_EQ(fs.Create(FUSE_ROOT_ID, "motd").error, EROFS);
}

}  // namespace
}  // namespace vk::virtio::fs
