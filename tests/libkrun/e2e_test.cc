// virtkit's libkrun.so.1 end to end (issue 18): client programs of libkrun's
// API, built as their own project against the *installed* header, library
// and libkrun.pc, start real VMs on a busybox tree as root directory.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include "base/unique_fd.h"
#include "e2e/vk_process.h"

namespace vk::e2e {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

// A loaded 2-core host boots a cold guest in minutes; the first run also
// makes the warm template the later runs restore.
constexpr seconds kRunTimeout{900};

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class LibkrunTest : public ::testing::Test {
 protected:
  // Installs libkrun into a prefix and builds the clients against it, once.
  static void SetUpTestSuite() {
    if (!KvmUnavailableReason().empty()) return;
    work_ = new TempDir();
    const std::string prefix = work_->path() + "/prefix";
    ProcessResult installed = RunProcess(
        {"cmake", "--install", VK_BUILD_DIR, "--prefix", prefix, "--component", "libkrun"});
    ASSERT_EQ(installed.exit_code, 0) << installed.out << installed.err;
    std::string pc_dir;
    for (const auto& entry : fs::recursive_directory_iterator(prefix)) {
      if (entry.path().filename() == "libkrun.pc") pc_dir = entry.path().parent_path();
    }
    ASSERT_FALSE(pc_dir.empty()) << "the libkrun component installed no libkrun.pc";
    lib_dir_ = fs::path(pc_dir).parent_path().string();
    const std::string clients = work_->path() + "/clients";
    ProcessResult configured =
        RunProcess({"env", "PKG_CONFIG_PATH=" + pc_dir, "cmake", "-S",
                    std::string(VK_SOURCE_DIR) + "/tests/libkrun/client", "-B", clients});
    ASSERT_EQ(configured.exit_code, 0) << configured.out << configured.err;
    ProcessResult built = RunProcess({"cmake", "--build", clients});
    ASSERT_EQ(built.exit_code, 0) << built.out << built.err;
    runner_ = clients + "/chroot_runner";
    kernel_runner_ = clients + "/kernel_runner";
    root_ = work_->path() + "/root";
    ProcessResult tree =
        RunProcess({std::string(VK_SOURCE_DIR) + "/scripts/busybox-tree.sh", root_});
    ASSERT_EQ(tree.exit_code, 0) << tree.err;
    fs::copy_file(VK_VSOCK_PEER, root_ + "/bin/vsock_peer");
  }
  static void TearDownTestSuite() {
    delete work_;
    work_ = nullptr;
  }

  void SetUp() override {
    std::string reason = KvmUnavailableReason();
    if (!reason.empty()) GTEST_SKIP() << "needs /dev/kvm: " << reason;
    ASSERT_FALSE(runner_.empty()) << "the suite's set-up failed";
  }

  static ProcessResult Run(const std::vector<std::string>& options,
                           const std::vector<std::string>& command) {
    std::vector<std::string> argv{runner_, root_};
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
    return RunProcess(argv, "", kRunTimeout);
  }

  static TempDir* work_;
  static std::string runner_, kernel_runner_, root_, lib_dir_;
};

TempDir* LibkrunTest::work_ = nullptr;
std::string LibkrunTest::runner_, LibkrunTest::kernel_runner_, LibkrunTest::root_,
    LibkrunTest::lib_dir_;

// A unix socket listening at `path`.
UniqueFd ListenAt(const std::string& path) {
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
  if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0 ||
      ::listen(sock.get(), 1) < 0)
    return UniqueFd();
  return sock;
}

UniqueFd ConnectTo(const std::string& path) {
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0)
    return UniqueFd();
  return sock;
}

// One line from `fd` (without its newline), or what arrived before EOF.
std::string ReadLine(int fd) {
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

void WriteText(int fd, const std::string& text) {
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
}

TEST_F(LibkrunTest, RunsTheCommandWithItsEnvironmentWorkdirAndLimitsAndReturnsItsStatus) {
  ProcessResult run = Run({"-w", "/tmp", "-e", "GREETING=hello", "-r", "7=64:64"},
                          {"/bin/sh", "-c",
                           "echo \"$GREETING from $(pwd)\"; ulimit -n; "
                           "echo written > /tmp/from-guest; exit 3"});
  EXPECT_EQ(run.exit_code, 3) << run.err;
  EXPECT_EQ(run.out, "hello from /tmp\n64\n") << run.err;
  // The root is the host directory itself: the guest's write is there.
  EXPECT_EQ(ReadText(root_ + "/tmp/from-guest"), "written\n");
}

TEST_F(LibkrunTest, AWorkloadKilledBySignalNineGives137) {
  ProcessResult run = Run({}, {"/bin/sh", "-c", "kill -9 $$"});
  EXPECT_EQ(run.exit_code, 137) << run.err;
}

TEST_F(LibkrunTest, APortMapReachesTheGuestFromTheHost) {
  const uint16_t port = FreeLoopbackPort();
  const std::string ready = root_ + "/tmp/listening";
  fs::remove(ready);
  auto vm = std::async(std::launch::async, [port] {
    return Run({"-p", std::to_string(port) + ":8080"},
               {"/bin/sh", "-c", "(sleep 1; echo > /tmp/listening) & echo pong | nc -l -p 8080"});
  });
  std::string reply;
  const auto deadline = std::chrono::steady_clock::now() + kRunTimeout;
  while (reply.empty() && std::chrono::steady_clock::now() < deadline &&
         vm.wait_for(seconds(1)) != std::future_status::ready) {
    if (!fs::exists(ready)) continue;
    UniqueFd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
      char buffer[64];
      ssize_t got = ::read(sock.get(), buffer, sizeof(buffer));
      if (got > 0) reply.assign(buffer, static_cast<size_t>(got));
    }
  }
  EXPECT_EQ(reply, "pong\n");
  ProcessResult run = vm.get();
  EXPECT_EQ(run.exit_code, 0) << run.err;
}

TEST_F(LibkrunTest, APythonCtypesClientRunsTheVmInAChildProcess) {
  ProcessResult run =
      RunProcess({"env", "LD_LIBRARY_PATH=" + lib_dir_, "python3",
                  std::string(VK_SOURCE_DIR) + "/tests/libkrun/ctypes_client.py", root_, "7", "--",
                  "/bin/sh", "-c", "test \"$FROM_PYTHON\" = yes && exit 7"},
                 "", kRunTimeout);
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("ended with 7"), std::string::npos) << run.out << run.err;
}

TEST_F(LibkrunTest, VsockPortsCarryConnectionsBothWays) {
  const std::string out_path = work_->path() + "/to-host.sock";
  const std::string in_path = work_->path() + "/to-guest.sock";
  fs::remove(in_path);
  fs::remove(root_ + "/tmp/vsock-ready");
  UniqueFd host_listener = ListenAt(out_path);
  ASSERT_TRUE(host_listener);
  // The host's side of the guest's connect: answer its line.
  std::string guest_said;
  std::thread host_server([&] {
    UniqueFd peer(::accept4(host_listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!peer) return;
    guest_said = ReadLine(peer.get());
    WriteText(peer.get(), "pong-from-host\n");
  });
  auto vm = std::async(std::launch::async, [&] {
    return Run(
        {"-c", "6000:" + out_path, "-l", "7000:" + in_path},
        {"/bin/sh", "-c",
         "vsock_peer connect 6000 hello-from-guest && vsock_peer serve 7000 pong-from-guest"});
  });
  std::string guest_answered;
  while (vm.wait_for(seconds(1)) != std::future_status::ready) {
    if (!fs::exists(root_ + "/tmp/vsock-ready")) continue;
    UniqueFd sock = ConnectTo(in_path);
    if (!sock) continue;
    WriteText(sock.get(), "hello-from-host\n");
    guest_answered = ReadLine(sock.get());
    break;
  }
  ProcessResult run = vm.get();
  ::shutdown(host_listener.get(), SHUT_RDWR);
  host_server.join();
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(guest_said, "hello-from-guest");
  EXPECT_EQ(guest_answered, "pong-from-guest");
  EXPECT_NE(run.out.find("host said: pong-from-host"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("host sent: hello-from-host"), std::string::npos) << run.out;
}

TEST_F(LibkrunTest, AUnixStreamNicJoinsAVkSwitch) {
  const std::string sock = work_->path() + "/lan.sock";
  BackgroundVk lan({"switch", "--listen", sock});
  for (int i = 0; i < 200 && !fs::exists(sock); ++i) ::usleep(50000);
  ASSERT_TRUE(fs::exists(sock));
  // The switch's DHCP gives 192.168.127.x; its gateway answers pings.
  ProcessResult run =
      Run({"-n", sock}, {"/bin/sh", "-c",
                         "ip -4 addr show eth0 | grep -o 'inet [0-9.]*'; "
                         "ping -c 1 -W 5 192.168.127.1 >/dev/null && echo reached"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("inet 192.168.127."), std::string::npos) << run.out << run.err;
  EXPECT_NE(run.out.find("reached"), std::string::npos) << run.out << run.err;
}

TEST_F(LibkrunTest, AKernelRunnerBootsItsOwnKernelAndMountsItsDiskAsRoot) {
  TempDir assets;
  ProcessResult extracted = RunVk({"guest-assets", assets.path()});
  ASSERT_EQ(extracted.exit_code, 0) << extracted.err;
  const std::string disk = MakeBusyboxDisk(assets);
  ProcessResult run = RunProcess(
      {kernel_runner_, assets.path() + "/vmlinux", assets.path() + "/initramfs.cpio", disk,
       "krun.test=1", "--", "/bin/sh", "-c",
       "grep -o krun.test=1 /proc/cmdline; grep -o '^/dev/vda / ext4' /proc/mounts; exit 5"},
      "", kRunTimeout);
  EXPECT_EQ(run.exit_code, 5) << run.out << run.err;
  EXPECT_EQ(run.out, "krun.test=1\n/dev/vda / ext4\n") << run.err;
}

}  // namespace
}  // namespace vk::e2e
