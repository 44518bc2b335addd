// No open on behalf of the guest may block the device thread (passthrough.h,
// "Opening"): FIFOs and sockets where a regular file is expected are refused
// at once. Each test runs under an alarm, so a regression fails the run
// instead of hanging it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "base/testing/fd_testing.h"
#include "base/unique_fd.h"
#include "virtio/fs/fs_test_harness.h"
#include "virtio/fs/passthrough.h"

namespace vk::virtio::fs {
namespace {

using testing::FsHarness;
using testing::Reply;
using testing::Req;
using testing::TempDir;

uint64_t Node(const Reply& reply) { return reply.As<fuse_entry_out>().nodeid; }

// An open that blocks never returns: SIGALRM then ends the test binary with
// a message instead of letting it hang.
class AlarmGuard {
 public:
  explicit AlarmGuard(unsigned seconds) {
    struct sigaction action {};
    action.sa_handler = [](int) {
      static const char kMessage[] = "fs_open_test: an open blocked the device thread\n";
      (void)!::write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
      ::_exit(99);
    };
    ::sigaction(SIGALRM, &action, &previous_);
    ::alarm(seconds);
  }
  ~AlarmGuard() {
    ::alarm(0);
    ::sigaction(SIGALRM, &previous_, nullptr);
  }

 private:
  struct sigaction previous_ {};
};

// A bound unix socket at `path` (the fd keeps it alive).
UniqueFd BindSocket(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  return fd;
}

class FsOpenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = std::make_unique<FsHarness>(FsOptions{dir_.path(), "share"});
    ASSERT_EQ(fs_->Init().error, 0);
  }
  AlarmGuard alarm_{10};
  TempDir dir_;
  std::unique_ptr<FsHarness> fs_;
};

TEST_F(FsOpenTest, CreateOverAnExistingFifoIsRefusedAtOnce) {
  ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0644), 0);
  // Without O_EXCL, CREATE opens an existing name; a FIFO must not be.
  for (int flags : {O_WRONLY, O_RDONLY, O_RDWR}) {
    Reply reply = fs_->Create(FUSE_ROOT_ID, "fifo", flags);
    EXPECT_NE(reply.error, 0) << flags;
    EXPECT_TRUE(reply.error == EACCES || reply.error == ENXIO) << reply.error;
  }
  EXPECT_EQ(fs_->Create(FUSE_ROOT_ID, "fifo", O_WRONLY | O_EXCL).error, EEXIST);
}

TEST_F(FsOpenTest, CreateOverAnExistingSocketIsRefused) {
  UniqueFd socket = BindSocket(dir_ / "sock");
  Reply reply = fs_->Create(FUSE_ROOT_ID, "sock", O_RDWR);
  EXPECT_TRUE(reply.error == EACCES || reply.error == ENXIO) << reply.error;
}

TEST_F(FsOpenTest, OpenOfAFileTheGuestSwappedForAFifoFailsPromptly) {
  { std::ofstream(dir_ / "f") << "data"; }
  uint64_t f = Node(fs_->Lookup(FUSE_ROOT_ID, "f"));
  // The guest keeps the regular file's node and puts a FIFO at its name.
  ASSERT_EQ(fs_->Call(Req(FUSE_UNLINK, FUSE_ROOT_ID).Str("f")).error, 0);
  fuse_mknod_in fifo{S_IFIFO | 0644, 0, 0, 0};
  ASSERT_EQ(fs_->Call(Req(FUSE_MKNOD, FUSE_ROOT_ID).Arg(fifo).Str("f")).error, 0);
  for (int flags : {O_RDONLY, O_WRONLY, O_RDWR}) {
    EXPECT_NE(fs_->Open(f, flags).error, 0) << flags;
  }
  // SETATTR(size) re-opens by name for writing, too.
  fuse_setattr_in truncate{};
  truncate.valid = FATTR_SIZE;
  EXPECT_NE(fs_->Call(Req(FUSE_SETATTR, f).Arg(truncate)).error, 0);
}

TEST_F(FsOpenTest, OpenOfAFileTheHostSwappedForASocketFails) {
  { std::ofstream(dir_ / "f") << "data"; }
  uint64_t f = Node(fs_->Lookup(FUSE_ROOT_ID, "f"));
  std::filesystem::remove(dir_ / "f");
  UniqueFd socket = BindSocket(dir_ / "f");
  EXPECT_NE(fs_->Open(f, O_RDWR).error, 0);
}

TEST_F(FsOpenTest, RegularFilesOpenWithoutONonblock) {
  Reply created = fs_->Create(FUSE_ROOT_ID, "f", O_RDWR);
  ASSERT_EQ(created.error, 0);
  uint64_t node = created.As<fuse_entry_out>().nodeid;
  uint64_t fh = created.As<fuse_open_out>(sizeof(fuse_entry_out)).fh;
  ASSERT_EQ(fs_->Open(node, O_RDWR).error, 0);
  EXPECT_EQ(fs_->Release(fh).error, 0);
}

TEST(OpenRegularAtTest, ClearsONonblockOnlyWhenNotAsked) {
  TempDir dir;
  { std::ofstream(dir / "f") << "x"; }
  UniqueFd root(::open(dir.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  struct stat st;
  auto plain = OpenRegularAt(root.get(), "f", O_RDONLY | O_CLOEXEC, 0, st);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(::fcntl(plain->get(), F_GETFL) & O_NONBLOCK, 0);
  auto asked = OpenRegularAt(root.get(), "f", O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0, st);
  ASSERT_TRUE(asked.ok());
  EXPECT_NE(::fcntl(asked->get(), F_GETFL) & O_NONBLOCK, 0);
  ASSERT_EQ(::mkfifo((dir / "p").c_str(), 0600), 0);
  auto fifo = OpenRegularAt(root.get(), "p", O_RDWR | O_CLOEXEC, 0, st);
  ASSERT_FALSE(fifo.ok());
  EXPECT_EQ(fifo.error().errno_value(), EACCES);
  std::filesystem::create_directory(dir / "d");
  auto directory = OpenRegularAt(root.get(), "d", O_RDONLY | O_CLOEXEC, 0, st);
  ASSERT_FALSE(directory.ok());
  EXPECT_EQ(directory.error().errno_value(), EISDIR);
}

// A guest that looks files up and never forgets them must leave the VMM fds
// for its own work (fd_reserve.h). Run in a child: it lowers RLIMIT_NOFILE.
TEST(FsFdReserveTest, GuestLookupsLeaveTheVmmItsReserve) {
  TempDir dir;
  for (int i = 0; i < 600; ++i) std::ofstream(dir / ("f" + std::to_string(i)));
  pid_t child = ::fork();
  if (child == 0) {
    if (!vk::testing::SetFdLimit(512)) ::_exit(2);
    FsHarness fs(FsOptions{dir.path(), "share"});
    if (fs.Init().error != 0) ::_exit(3);
    int refused = 0;
    for (int i = 0; i < 600; ++i) {
      int error = fs.Lookup(FUSE_ROOT_ID, "f" + std::to_string(i)).error;
      if (error == ENFILE) ++refused;
    }
    int spare = 0;  // fds the VMM can still open
    while (spare < 100 && ::dup(STDERR_FILENO) >= 0) ++spare;
    ::_exit(refused > 0 && spare >= 100 ? 0 : 1);
  }
  EXPECT_TRUE(vk::testing::WaitExitedZero(child));
}

}  // namespace
}  // namespace vk::virtio::fs
