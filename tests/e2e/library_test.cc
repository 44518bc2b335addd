// libvirtkit end to end (include/virtkit/virtkit.h, docs/library.md). One
// boot covers most checks: a helper process (helper/library_helper.cc)
// starts a detached VM and exits; this process Attach()es to it and checks
// the rootfs hook's file (in the guest, not in the shared base), the
// post-boot hook's health check, HTTP through the forwarded port, the
// firewall rule, Exec's streams and timeout, List(), Stop() within its
// timeout and Remove() leaving nothing behind. A second boot runs the
// quick-start example program.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <virtkit/virtkit.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "e2e/busybox_vm_test.h"
#include "image/testing/tiny_http_server.h"

namespace vk::e2e {
namespace {

using image::testing::TinyHttpServer;

// The VMs' boot timeout (900 s, as every e2e VM) plus the run's own work.
constexpr auto kSlowBoot = std::chrono::seconds(1200);
constexpr auto kSlowGuestCommand = std::chrono::seconds(300);

uint16_t FreePort() {
  TinyHttpServer probe([](const image::testing::TinyRequest&) { return std::string(); });
  return static_cast<uint16_t>(probe.port());
}

TinyHttpServer::Handler Page(std::string body) {
  return [body](const image::testing::TinyRequest&) {
    return TinyHttpServer::Response(200, "", body);
  };
}

class LibraryTest : public BusyboxVmTest {
 protected:
  void SetUp() override {
    BusyboxVmTest::SetUp();
    ::setenv("VIRTKIT_VK", VK_BINARY, 1);  // the supervisor under test
  }

  // The guest's server may still be starting: on a loaded PVM host each of
  // its forks takes seconds, so it gets as long as a guest command may take.
  // busybox httpd forks for every connection: a request given up after a
  // few seconds would leave its fork queued and only slow the next one (seen:
  // nothing answered in 300 s with 3 s attempts), so one request may take a
  // minute.
  std::string Curl(uint16_t port) {
    const auto deadline = std::chrono::steady_clock::now() + kSlowGuestCommand;
    ProcessResult page;
    while (page.out.empty() && std::chrono::steady_clock::now() < deadline) {
      page =
          RunProcess({"curl", "-s", "-m", "60", "http://127.0.0.1:" + std::to_string(port) + "/"});
      if (page.out.empty()) ::usleep(500000);
    }
    return page.out;
  }
};

// Whether `pid` is gone (or a zombie: it runs nothing, and its reaping is up
// to its parent, init for an orphaned VMM) within a few seconds.
bool ProcessEnds(pid_t pid) {
  for (int i = 0; i < 100; ++i) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    size_t end = text.rfind(')');
    if (end != std::string::npos && end + 2 < text.size() && text[end + 2] == 'Z') return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

TEST_F(LibraryTest, DetachedVmFromAnotherProcess) {
  const std::string name = "lib-e2e-" + std::to_string(::getpid());
  ScopedVm guard(name);
  TinyHttpServer open(Page("open-page\n"));
  TinyHttpServer blocked(Page("blocked-page\n"));
  const uint16_t http_port = FreePort();
  ProcessResult started = RunProcess(
      {VK_LIBRARY_HELPER, name, disk_, std::to_string(http_port), std::to_string(blocked.port())},
      "", kSlowBoot);
  ASSERT_EQ(started.exit_code, 0) << started.out << started.err;
  // The post-boot hook ran its health check in the guest.
  EXPECT_NE(started.out.find("post-boot health: hooked-by-library\n"), std::string::npos)
      << started.out;

  // Attach from this (second) process: the first one has exited.
  auto vm = virtkit::Attach(name);
  ASSERT_TRUE(vm) << vm.error().message();
  const std::string dir = vm->DataDir();
  // Its port forward comes from the VM's record, not from this process.
  ASSERT_EQ(vm->Ports().size(), 1u);
  EXPECT_EQ(vm->Ports()[0].host_port, http_port);
  EXPECT_EQ(vm->Ports()[0].guest_port, 8080);
  auto hooked = vm->Exec({"cat", "/etc/hooked"});
  ASSERT_TRUE(hooked) << hooked.error().message();
  EXPECT_EQ(hooked->stdout_text, "hooked-by-library\n");
  EXPECT_EQ(hooked->exit_code, 0);
  // The hook's owners, and the VM's env (kept in its record) as Exec's base.
  auto owned =
      vm->Exec({"sh", "-c", "echo $LIB_GREETING; stat -c %u:%g /srv/owned /srv/owned/file"});
  ASSERT_TRUE(owned) << owned.error().message();
  EXPECT_EQ(owned->stdout_text, "hello from options\n1234:5678\n1234:100\n") << owned->stderr_text;
  // ... and the shared base does not have it.
  ProcessResult base = RunProcess({"/sbin/debugfs", "-R", "stat /etc/hooked", disk_});
  EXPECT_NE(base.err.find("not found"), std::string::npos) << base.out << base.err;

  // HTTP through the forwarded port.
  EXPECT_EQ(Curl(http_port), "hooked-by-library\n");

  // The firewall rejects what its rule names, and only that.
  auto fetch = [&](int port) {
    return vm->Exec(
        {"sh", "-c",
         "wget -q -O - http://host.lan:" + std::to_string(port) + "/ 2>&1 || echo refused"});
  };
  auto allowed = fetch(open.port());
  ASSERT_TRUE(allowed) << allowed.error().message();
  EXPECT_EQ(allowed->stdout_text, "open-page\n");
  auto denied = fetch(blocked.port());
  ASSERT_TRUE(denied) << denied.error().message();
  EXPECT_NE(denied->stdout_text.find("refused"), std::string::npos) << denied->stdout_text;
  EXPECT_EQ(blocked.requests().size(), 0u);

  // Exec: stdin data, callbacks, exit codes, a timeout that kills.
  virtkit::ExecOptions streams;
  streams.stdin_data = "from-stdin";
  std::string seen;
  streams.on_stdout = [&](std::string_view chunk) { seen += chunk; };
  auto cat = vm->Exec({"sh", "-c", "cat; echo; exit 3"}, streams);
  ASSERT_TRUE(cat) << cat.error().message();
  EXPECT_EQ(seen, "from-stdin\n");
  EXPECT_EQ(cat->exit_code, 3);
  virtkit::ExecOptions quick;
  quick.timeout = std::chrono::seconds(1);
  auto t0 = std::chrono::steady_clock::now();
  auto slow = vm->Exec({"sleep", "60"}, quick);
  ASSERT_FALSE(slow);
  EXPECT_EQ(slow.error().kind(), virtkit::ErrorKind::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));

  auto list = virtkit::List();
  ASSERT_TRUE(list);
  bool listed = false;
  for (const auto& status : *list) listed |= status.name == name && status.active;
  EXPECT_TRUE(listed);
  auto status = vm->Status();
  EXPECT_TRUE(status.active);
  const pid_t vmm = static_cast<pid_t>(std::stol(status.id));

  // Stop within its timeout, then Remove leaves no process, socket or file.
  t0 = std::chrono::steady_clock::now();
  auto stopped = vm->Stop(std::chrono::seconds(20));
  ASSERT_TRUE(stopped) << stopped.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(25));
  EXPECT_FALSE(vm->Status().active);
  auto removed = vm->Remove();
  ASSERT_TRUE(removed) << removed.error().message();
  EXPECT_FALSE(std::filesystem::exists(dir)) << dir;
  EXPECT_TRUE(ProcessEnds(vmm)) << "VMM " << vmm << " still runs";
  EXPECT_FALSE(virtkit::Attach(name));
}

// The quick-start program (examples/quickstart) serves HTTP on a forwarded
// port from a busybox root and fetches it from the host; its handle's
// destructor then stops and removes the (non-detached) VM.
TEST_F(LibraryTest, QuickstartServesHttpOnAForwardedPort) {
  const uint16_t port = FreePort();
  ::setenv("QUICKSTART_BOOT_TIMEOUT", "900", 1);
  ProcessResult run =
      RunProcess({VK_QUICKSTART, "--rootfs", disk_, std::to_string(port), "--", "sh", "-c",
                  "mkdir -p /tmp/www && echo quickstart-page > /tmp/www/index.html && "
                  "exec httpd -f -p 80 -h /tmp/www"},
                 "", kSlowBoot);
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("quickstart-page"), std::string::npos) << run.out;
  auto list = virtkit::List();
  ASSERT_TRUE(list);
  for (const auto& status : *list) EXPECT_NE(status.name.rfind("vm-", 0), 0u) << status.name;
}

}  // namespace
}  // namespace vk::e2e
