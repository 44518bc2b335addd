// End-to-end networking (loopback and this machine only): a guest reaches a
// host HTTP server through the gateway (host.lan), a guest server is reached
// from the host with -p, an egress allowlist resolves allowed names and
// answers NXDOMAIN for others, a --firewall reject rule refuses a host port,
// two VMs on one `vk switch` find each other by
// NAME.lan, and a QEMU microvm joins the same switch over its stream socket.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>

#include "e2e/busybox_vm_test.h"
#include "image/testing/tiny_http_server.h"

namespace vk::e2e {
namespace {

namespace fs = std::filesystem;

// A socket of `type` bound to 127.0.0.1 on a free port (returned in `port`).
int BindLoopback(int type, int* port) {
  int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  return fd;
}

using image::testing::TinyHttpServer;

// A host HTTP server's handler answering every request with `body`.
TinyHttpServer::Handler Page(std::string body) {
  return [body](const image::testing::TinyRequest&) {
    return TinyHttpServer::Response(200, "", body);
  };
}

// A DNS server on 127.0.0.1 that answers every A query with `answer` (what
// the host's resolvers would return for a real name).
class FakeUpstreamDns {
 public:
  explicit FakeUpstreamDns(uint32_t answer) : answer_(answer) {
    fd_ = BindLoopback(SOCK_DGRAM, &port_);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeUpstreamDns() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int queries() const { return queries_; }

 private:
  void Serve() {
    uint8_t q[512];
    while (!stop_) {
      sockaddr_in from{};
      socklen_t len = sizeof from;
      ssize_t n = ::recvfrom(fd_, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 17) {
        if (n < 0) return;
        continue;
      }
      ++queries_;
      std::string reply(reinterpret_cast<char*>(q), static_cast<size_t>(n));
      reply[2] = static_cast<char>(0x81);  // response, recursion desired
      reply[3] = static_cast<char>(0x80);  // recursion available, NOERROR
      reply[7] = 1;                        // one answer
      reply[9] = reply[11] = 0;            // no authority/additional records
      uint32_t ip = htonl(answer_);
      reply += std::string("\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04", 12);
      reply += std::string(reinterpret_cast<char*>(&ip), 4);
      ::sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }
  uint32_t answer_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

class NetTest : public BusyboxVmTest {
 protected:
  void SetUp() override {
    BusyboxVmTest::SetUp();
    if (!IsSkipped()) fs::create_directories(dir_.path() + "/rootfs/www");
  }
};

// One boot covers the gateway, -p and --firewall: a reject rule for one host
// port (the guest is refused at once, the host server never sees it) and a
// default-deny ingress that the published port still passes.
TEST_F(NetTest, GatewayReachesHostAndPublishedPortReachesGuest) {
  TinyHttpServer host(Page("page-from-host\n"));
  TinyHttpServer blocked(Page("page-behind-the-firewall\n"));
  std::string rules = dir_.path() + "/firewall.rules";
  std::ofstream(rules) << "reject egress tcp to 192.168.127.1 port " << blocked.port()
                       << "\ndefault deny ingress\n";
  std::string published = std::to_string(20000 + ::getpid() % 20000);
  auto guest = std::async(std::launch::async, [&] {
    return Launch({"--net", "-p", "127.0.0.1:" + published + ":8080", "--firewall", rules},
                  {"sh", "-c",
                   "cat /etc/resolv.conf; ip -4 addr show eth0 | grep -o 'inet [0-9./]*'; "
                   "nslookup host.lan 192.168.127.1 | grep -A1 '^Name:'; "
                   "wget -q -O - http://host.lan:" +
                       std::to_string(host.port()) +
                       "/; "
                       "wget -q -O - http://host.lan:" +
                       std::to_string(blocked.port()) +
                       "/ 2>&1 || echo firewall-refused; "
                       "mkdir -p /tmp/www && echo page-from-guest > /tmp/www/index.html && "
                       "httpd -f -p 8080 -h /tmp/www & sleep 45"});
  });
  // busybox httpd forks per connection, seconds on a loaded PVM host: a
  // request given up early leaves its fork queued in the guest and slows
  // the next, so each may take 30 s (the guest serves for 45).
  ProcessResult page;
  for (int i = 0; i < 300 && page.out.empty(); ++i) {
    ::usleep(500000);
    page = RunProcess({"curl", "-s", "-m", "30", "http://127.0.0.1:" + published + "/"});
  }
  EXPECT_EQ(page.out, "page-from-guest\n");
  ProcessResult r = guest.get();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("nameserver 192.168.127.1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("inet 192.168.127.2/24"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("host.lan\nAddress: 192.168.127.1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("page-from-host"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Connection refused\nfirewall-refused"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("page-behind-the-firewall"), std::string::npos) << r.out;
  EXPECT_EQ(blocked.requests().size(), 0u);
  EXPECT_EQ(host.requests().size(), 1u);
}

// The allowlist through a real guest: allowed names resolve, others are
// NXDOMAIN, and an allowed name whose answer lands on the host (here the
// gateway, i.e. host loopback) opens nothing: DNS answers never teach the
// allowlist host, loopback or LAN addresses (docs/security.md).
TEST_F(NetTest, EgressAllowlistResolvesAllowedNamesOnly) {
  TinyHttpServer host(Page("must-not-be-served\n"));
  FakeUpstreamDns dns((192u << 24) | (168u << 16) | (127u << 8) | 1u);
  ::setenv("VIRTKIT_DNS_UPSTREAM", dns.address().c_str(), 1);
  std::string port = std::to_string(host.port());
  ProcessResult r = Launch(
      {"--net", "--egress-allow", "allowed.example,*.good.example"},
      {"sh", "-c",
       "nslookup allowed.example 192.168.127.1 >/dev/null && echo resolved-allowed; "
       "nslookup api.good.example 192.168.127.1 >/dev/null && echo resolved-wildcard; "
       "nslookup denied.example 192.168.127.1 2>&1 | grep -qi -e NXDOMAIN -e \"can't resolve\" "
       "&& echo denied-nxdomain; "
       "wget -q -O - http://allowed.example:" +
           port + "/ 2>/dev/null || echo host-answer-refused"});
  ::unsetenv("VIRTKIT_DNS_UPSTREAM");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "resolved-allowed\nresolved-wildcard\ndenied-nxdomain\nhost-answer-refused\n");
  EXPECT_NE(r.err.find("never allowed by name"), std::string::npos) << r.err;
  EXPECT_GE(dns.queries(), 2);
  EXPECT_EQ(host.requests().size(), 0u);
}

TEST_F(NetTest, TwoVmsOnASwitchFindEachOtherByName) {
  std::string sock = dir_.path() + "/lan.sock";
  BackgroundVk lan({"switch", "--listen", sock});
  for (int i = 0; i < 100 && !fs::exists(sock); ++i) ::usleep(50000);
  ASSERT_TRUE(fs::exists(sock));
  std::string name = "web" + std::to_string(::getpid() % 10000);
  ScopedVm web_vm(name), client_vm("client" + name);
  std::string web_disk = dir_.path() + "/web.ext4";
  fs::copy_file(disk_, web_disk);
  ProcessResult web = RunVk({"launch", "--disk", web_disk, "--net=" + sock, "--name", name, "-d",
                             "--boot-timeout", "900"});
  ASSERT_EQ(web.exit_code, 0) << web.err;
  RunVk({"exec", name, "--", "sh", "-c",
         "mkdir -p /tmp/www && echo served-by-" + name +
             " > /tmp/www/index.html && "
             "httpd -p 80 -h /tmp/www"});
  ProcessResult client = Launch({"--net=" + sock, "--name", "client" + name},
                                {"sh", "-c", "wget -q -O - http://" + name + ".lan/"});
  EXPECT_EQ(client.out, "served-by-" + name + "\n") << client.err;

  // A QEMU microvm on the same LAN over the stream socket gets a lease.
  TempDir assets;
  ASSERT_EQ(RunVk({"guest-assets", assets.path()}).exit_code, 0);
  std::ofstream(dir_.path() + "/rootfs/sbin/init")
      << "#!/bin/sh\nip -4 addr show eth0 | grep -o 'inet [0-9./]*'\npoweroff -f\n";
  std::string qemu_disk = dir_.path() + "/qemu.ext4";
  ASSERT_EQ(RunVk({"mkext", dir_.path() + "/rootfs", qemu_disk}).exit_code, 0);
  ProcessResult qemu =
      RunProcess(QemuMicrovmCommand(assets.path(), qemu_disk, "vk.net=dhcp vk.hostname=qemu",
                                    {"-netdev", "stream,id=lan,addr.type=unix,addr.path=" + sock,
                                     "-device", "virtio-net-device,netdev=lan"}),
                 "", std::chrono::seconds(600));
  EXPECT_NE(qemu.out.find("inet 192.168.127."), std::string::npos) << qemu.out << qemu.err;
}

}  // namespace
}  // namespace vk::e2e
