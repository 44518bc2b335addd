// virtkit's libkrun.so.1 end to end (issue 18): client programs of libkrun's
// API, built as their own project against the *installed* header, library
// and libkrun.pc, start real VMs on a busybox tree as root directory.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>
#include <vector>

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

TEST_F(LibkrunTest, TheDefaultConsoleCarriesTheWorkloadsOutput) {
  const std::string output = work_->path() + "/console.out";
  ProcessResult run = Run({"-o", output}, {"/bin/sh", "-c", "echo to-out; echo to-err >&2; cat"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "");  // not on the process's own stdout
  std::string text = ReadText(output);
  EXPECT_NE(text.find("to-out\n"), std::string::npos) << text;
  EXPECT_NE(text.find("to-err\n"), std::string::npos) << text;
}

// The host end of a console: accepts one connection at `path` and answers
// each line with PING replaced by PONG.
class PingPongPeer {
 public:
  explicit PingPongPeer(const std::string& path) : listener_(ListenAt(path)) {
    thread_ = std::thread([this] {
      UniqueFd peer(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!peer) return;
      for (std::string line = ReadLine(peer.get()); !line.empty(); line = ReadLine(peer.get())) {
        heard_ += line + "\n";
        std::string reply = line;
        if (size_t at = reply.find("PING"); at != std::string::npos) reply.replace(at, 4, "PONG");
        reply += "\n";
        if (::write(peer.get(), reply.data(), reply.size()) < 0) return;
      }
    });
  }
  ~PingPongPeer() { Finish(); }
  bool listening() const { return static_cast<bool>(listener_); }
  // What the guest sent, once the VM has ended (its end of the connection
  // closed with it).
  const std::string& Finish() {
    if (thread_.joinable()) {
      ::shutdown(listener_.get(), SHUT_RDWR);  // never connected: stop waiting
      thread_.join();
    }
    return heard_;
  }

 private:
  UniqueFd listener_;
  std::string heard_;
  std::thread thread_;
};

// One VM for every console kind and the root's overlay entries (they, like
// the consoles, make a VM that boots instead of restoring a template).
// Serial consoles are ttyS0, ttyS1 in the
// order added (COM1, COM2), wired to the client's descriptors, and the
// kernel's own console is not on them. A multiport virtio console's ports
// are found by name in /sys/class/virtio-ports (/dev/vportNpM); its terminal
// port is a console, the guest's hvc1 (hvc0 is the implicit console), with
// the size of the runner's terminal, and a new size when that changes.
// Overlay files are served from the client's memory over the root
// directory; the one-shot one can be looked up once.
TEST_F(LibkrunTest, ConsolesOfEveryKindAndOverlayFiles) {
  const std::string serial0 = work_->path() + "/ttyS0.out";
  const std::string serial1 = work_->path() + "/ttyS1.sock";
  const std::string alpha = work_->path() + "/alpha.sock";
  const std::string beta = work_->path() + "/beta.sock";
  for (const std::string& path : {serial1, alpha, beta}) fs::remove(path);
  PingPongPeer serial_peer(serial1), alpha_peer(alpha), beta_peer(beta);
  ASSERT_TRUE(serial_peer.listening() && alpha_peer.listening() && beta_peer.listening());
  const std::string script =
      "stty -F /dev/ttyS1 raw -echo && exec 3<>/dev/ttyS1 && echo PING-SERIAL >&3 && "
      "read -r reply <&3 && echo \"ttyS1 answered: $reply\" && echo hello-ttyS0 > /dev/ttyS0\n"
      "port() { for p in /sys/class/virtio-ports/*; do "
      "[ \"$(cat $p/name 2>/dev/null)\" = \"$1\" ] && echo /dev/${p##*/}; done; }\n"
      "exec 4<>$(port alpha) 5<>$(port beta) || exit 9\n"
      "echo PING-ALPHA >&4 && read -r reply <&4 && echo \"alpha answered: $reply\"\n"
      "echo PING-BETA >&5 && read -r reply <&5 && echo \"beta answered: $reply\"\n"
      "echo hello-term > /dev/hvc1\n"
      "echo \"hvc1 size: $(stty -F /dev/hvc1 size)\"\n"
      "echo resize-please > /dev/hvc1\n"
      "for i in $(seq 50); do s=$(stty -F /dev/hvc1 size); [ \"$s\" = '44 122' ] && break; "
      "sleep 0.2; done; echo \"hvc1 resized: $s\"\n"
      "echo \"overlay: $(cat /virt/hello) $(ls /virt)\"\n"
      "echo \"once: $(cat /once)\"; cat /once 2>/dev/null || echo 'once again: gone'\n";
  ProcessResult run =
      Run({"-O", serial0, "-S", serial1, "-P", "alpha:" + alpha, "-P", "beta:" + beta, "-T", "term",
           "-D", "virt", "-F", "virt/hello=from-memory", "-1", "once=secret"},
          {"/bin/sh", "-c", script});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("ttyS1 answered: PONG-SERIAL"), std::string::npos) << run.out << run.err;
  EXPECT_EQ(serial_peer.Finish(), "PING-SERIAL\n");
  EXPECT_EQ(ReadText(serial0), "hello-ttyS0\r\n");  // the tty's ONLCR, nothing of the kernel's
  EXPECT_NE(run.out.find("alpha answered: PONG-ALPHA"), std::string::npos) << run.out << run.err;
  EXPECT_NE(run.out.find("beta answered: PONG-BETA"), std::string::npos) << run.out << run.err;
  EXPECT_EQ(alpha_peer.Finish(), "PING-ALPHA\n");
  EXPECT_EQ(beta_peer.Finish(), "PING-BETA\n");
  EXPECT_NE(run.err.find("tty term: hello-term"), std::string::npos) << run.err;
  EXPECT_NE(run.out.find("hvc1 size: 33 111"), std::string::npos) << run.out << run.err;
  EXPECT_NE(run.out.find("hvc1 resized: 44 122"), std::string::npos) << run.out << run.err;
  EXPECT_NE(run.out.find("overlay: from-memory hello"), std::string::npos) << run.out << run.err;
  EXPECT_NE(run.out.find("once: secret"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("once again: gone"), std::string::npos) << run.out;
  EXPECT_FALSE(fs::exists(root_ + "/virt"));  // nothing was written into the host's tree
  EXPECT_FALSE(fs::exists(root_ + "/once"));
}

TEST_F(LibkrunTest, TheShutdownEventfdEndsTheWorkloadWithSigterm) {
  // The runner writes the eventfd 20 s after krun_start_enter; without it
  // the workload would sleep for 10 minutes.
  ProcessResult run = Run({"-s", "20"}, {"/bin/sleep", "600"});
  EXPECT_EQ(run.exit_code, 128 + SIGTERM) << run.err;
  EXPECT_LT(run.elapsed, std::chrono::minutes(5));
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
  // The switch's DHCP gives 192.168.127.x; its gateway answers pings. The
  // NIC by socket path (-n), then by a socket the client connected (-N).
  for (const char* how : {"-n", "-N"}) {
    ProcessResult run =
        Run({how, sock}, {"/bin/sh", "-c",
                          "ip -4 addr show eth0 | grep -o 'inet [0-9.]*'; "
                          "ping -c 1 -W 5 192.168.127.1 >/dev/null && echo reached"});
    EXPECT_EQ(run.exit_code, 0) << how << run.out << run.err;
    EXPECT_NE(run.out.find("inet 192.168.127."), std::string::npos) << how << run.out << run.err;
    EXPECT_NE(run.out.find("reached"), std::string::npos) << how << run.out << run.err;
  }
}

// A unixgram network peer as gvproxy's vfkit mode is one: it learns the
// VM's address from its "VFKT" datagram, then relays frames between it and a
// `vk switch`'s stream socket (adding and removing the length prefix).
class DatagramToSwitch {
 public:
  DatagramToSwitch(const std::string& gram_path, const std::string& switch_path)
      : gram_(ListenDatagram(gram_path)), stream_(ConnectTo(switch_path)) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) == 0) stop_read_.Reset(fds[0]), stop_write_.Reset(fds[1]);
    relay_ = std::thread([this] { Relay(); });
  }
  ~DatagramToSwitch() {
    (void)!::write(stop_write_.get(), "x", 1);
    relay_.join();
  }
  bool ok() const { return gram_ && stream_; }
  bool greeted() const { return greeted_; }

 private:
  static UniqueFd ListenDatagram(const std::string& path) {
    UniqueFd sock(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path.c_str());
    if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) < 0)
      return UniqueFd();
    return sock;
  }
  void Relay() {
    std::vector<uint8_t> frame(70000);
    sockaddr_un vm{};
    socklen_t vm_size = 0;
    pollfd fds[3] = {
        {gram_.get(), POLLIN, 0}, {stream_.get(), POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
    while (::poll(fds, 3, -1) > 0 && fds[2].revents == 0) {
      if (fds[0].revents & POLLIN) {
        vm_size = sizeof(vm);
        ssize_t n = ::recvfrom(gram_.get(), frame.data(), frame.size(), 0,
                               reinterpret_cast<sockaddr*>(&vm), &vm_size);
        if (n == 4 && std::memcmp(frame.data(), "VFKT", 4) == 0) {
          greeted_ = true;
        } else if (n > 0) {
          uint8_t prefix[4] = {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)};
          if (::write(stream_.get(), prefix, 4) != 4 ||
              ::write(stream_.get(), frame.data(), size_t(n)) != n)
            return;
        }
      }
      if (fds[1].revents & POLLIN) {
        uint8_t prefix[4];
        if (::recv(stream_.get(), prefix, 4, MSG_WAITALL) != 4) return;
        size_t n =
            size_t(prefix[0]) << 24 | size_t(prefix[1]) << 16 | size_t(prefix[2]) << 8 | prefix[3];
        if (n > frame.size() || ::recv(stream_.get(), frame.data(), n, MSG_WAITALL) != ssize_t(n))
          return;
        if (vm_size > 0)
          ::sendto(gram_.get(), frame.data(), n, 0, reinterpret_cast<sockaddr*>(&vm), vm_size);
      }
    }
  }

  UniqueFd gram_, stream_, stop_read_, stop_write_;
  std::atomic<bool> greeted_{false};
  std::thread relay_;
};

TEST_F(LibkrunTest, AUnixgramNicReachesTheLanThroughAVfkitStylePeer) {
  const std::string switch_sock = work_->path() + "/gram-lan.sock";
  const std::string gram_sock = work_->path() + "/vfkit.sock";
  BackgroundVk lan({"switch", "--listen", switch_sock});
  for (int i = 0; i < 200 && !fs::exists(switch_sock); ++i) ::usleep(50000);
  DatagramToSwitch peer(gram_sock, switch_sock);
  ASSERT_TRUE(peer.ok());
  ProcessResult run = Run({"-g", gram_sock}, {"/bin/sh", "-c",
                                              "ip -4 addr show eth0 | grep -o 'inet [0-9.]*'; "
                                              "ping -c 1 -W 5 192.168.127.1 >/dev/null && "
                                              "echo reached"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_TRUE(peer.greeted());
  EXPECT_NE(run.out.find("inet 192.168.127."), std::string::npos) << run.out << run.err;
  EXPECT_NE(run.out.find("reached"), std::string::npos) << run.out << run.err;
}

TEST_F(LibkrunTest, ATapNicInANetworkNamespaceOfTheTest) {
  // A user and network namespace of this test's own (no root needed): the
  // tap exists only there, with the host side at 10.77.0.1.
  const std::string script =
      "ip tuntap add dev vktap0 mode tap && ip addr add 10.77.0.1/24 dev vktap0 && "
      "ip link set vktap0 up && exec \"$@\"";
  ProcessResult run = RunProcess({"unshare", "-rn", "sh", "-c", script, "sh", runner_, root_, "-t",
                                  "vktap0", "--", "/bin/sh", "-c",
                                  "ip addr add 10.77.0.2/24 dev eth0; ip link set eth0 up; "
                                  "ping -c 1 -W 5 10.77.0.1 >/dev/null && echo reached"},
                                 "", kRunTimeout);
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("reached"), std::string::npos) << run.out << run.err;
}

TEST_F(LibkrunTest, AKernelRunnerBootsItsOwnCompressedKernelAndMountsItsDiskAsRoot) {
  TempDir assets;
  ProcessResult extracted = RunVk({"guest-assets", assets.path()});
  ASSERT_EQ(extracted.exit_code, 0) << extracted.err;
  const std::string disk = MakeBusyboxDisk(assets);
  // Compressed whole (KRUN_KERNEL_FORMAT_IMAGE_ZSTD): decompressed into the
  // cache once, then booted as the ELF it is.
  ProcessResult compressed = RunProcess({"zstd", "-q", assets.path() + "/vmlinux"});
  ASSERT_EQ(compressed.exit_code, 0) << compressed.err;
  ProcessResult run = RunProcess(
      {kernel_runner_, assets.path() + "/vmlinux.zst", assets.path() + "/initramfs.cpio", disk,
       "krun.test=1", "--", "/bin/sh", "-c",
       "grep -o krun.test=1 /proc/cmdline; grep -o '^/dev/vda / ext4' /proc/mounts; exit 5"},
      "", kRunTimeout);
  EXPECT_EQ(run.exit_code, 5) << run.out << run.err;
  EXPECT_EQ(run.out, "krun.test=1\n/dev/vda / ext4\n") << run.err;
}

}  // namespace
}  // namespace vk::e2e
