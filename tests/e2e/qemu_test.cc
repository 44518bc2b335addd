// End-to-end: `--vmm qemu` (issue 19). The same image run by QEMU and by
// our VMM gives the same output and exit code; shares, the LAN, a detached
// VM's exec/logs/stop and the refusals work under QEMU. Two QEMU boots in
// all (each ~30-60 s on a PVM host: QEMU has no warm template).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include "e2e/registry_image_test.h"
#include "image/testing/tiny_http_server.h"

namespace vk::e2e {
namespace {

namespace fs = std::filesystem;
using image::testing::TinyHttpServer;

class QemuTest : public RegistryImageTest {
 protected:
  void SetUp() override {
    RegistryImageTest::SetUp();
    if (IsSkipped()) return;
    if (RunProcess({"sh", "-c", "command -v qemu-system-x86_64"}).exit_code != 0)
      GTEST_SKIP() << "needs qemu-system-x86_64 (apt-get install qemu-system-x86)";
  }

  // Processes whose command line names this test's VM (QEMU's -name).
  static std::string QemuProcessesOf(const std::string& name) {
    return RunProcess({"pgrep", "-af", "qemu-system-x86_64 -name guest=" + name + " "}).out;
  }
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// One QEMU boot: stdin, stdout, stderr, exit code, the image's config, a
// --workdir share written as the caller, a read-only volume, the LAN's
// gateway; then the same command under our VMM must print the same.
TEST_F(QemuTest, RunGivesTheSameResultsAsOurVmmWithSharesAndTheLan) {
  TinyHttpServer host([](const image::testing::TinyRequest&) {
    return TinyHttpServer::Response(200, "", "page-from-host\n");
  });
  const std::string data = dir_.path() + "/data";
  fs::create_directories(data);
  std::ofstream(data + "/in") << "host data\n";
  auto run = [&](const std::string& vmm, const std::string& work) {
    fs::create_directories(work);
    return Run({"--vmm", vmm, "--user", "root", "--net", "--workdir", work, "-v",
                data + ":/data:ro", "-e", "X=y z"},
               {"sh", "-c",
                "cat; echo \"$GREETING|$X\"; pwd; id -u; cat /data/in; "
                "echo x > /data/new 2>/dev/null && echo wrote-ro; echo built > out.txt; "
                "wget -q -O - http://host.lan:" +
                    std::to_string(host.port()) + "/; echo to-stderr >&2; exit 7"},
               "piped-in\n");
  };
  ProcessResult qemu = run("qemu", dir_.path() + "/work-qemu");
  ProcessResult ours = run("virtkit", dir_.path() + "/work-ours");
  EXPECT_EQ(qemu.exit_code, 7) << qemu.err;
  EXPECT_EQ(qemu.out, "piped-in\nfrom-the-image|y z\n/work\n0\nhost data\npage-from-host\n")
      << qemu.err;
  EXPECT_NE(qemu.err.find("to-stderr"), std::string::npos) << qemu.err;
  EXPECT_EQ(ours.exit_code, qemu.exit_code) << ours.err;
  EXPECT_EQ(ours.out, qemu.out);
  for (const char* work : {"/work-qemu/out.txt", "/work-ours/out.txt"}) {
    const std::string out = dir_.path() + work;
    EXPECT_EQ(Slurp(out), "built\n") << out;
    struct stat st {};
    ASSERT_EQ(::stat(out.c_str(), &st), 0) << out;
    EXPECT_EQ(st.st_uid, ::getuid()) << out;
  }
  EXPECT_FALSE(fs::exists(data + "/new"));
  EXPECT_EQ(host.requests().size(), 2u);
}

// One QEMU boot: a detached VM is reached by `vk exec`, shows in `vk ps`,
// refuses a checkpoint with the reason, has its console in `vk logs`, and
// `vk stop` ends it and its QEMU.
TEST_F(QemuTest, DetachedVmServesExecAndStopsWithItsQemu) {
  const std::string name = "e2e-qemu-" + std::to_string(::getpid());
  ProcessResult started =
      Run({"--vmm", "qemu", "-d", "--name", name, "--boot-timeout", "900"}, {"sleep", "3600"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  EXPECT_EQ(started.out, name + "\n");
  EXPECT_NE(QemuProcessesOf(name), "");

  auto first = std::async(std::launch::async, [&] {
    return RunVk({"exec", name, "--", "sh", "-c", "echo first; exit 3"});
  });
  ProcessResult second = RunVk({"exec", "-i", name, "--", "cat"}, "through stdin\n");
  ProcessResult one = first.get();
  EXPECT_EQ(one.exit_code, 3) << one.err;
  EXPECT_EQ(one.out, "first\n");
  EXPECT_EQ(second.out, "through stdin\n") << second.err;
  EXPECT_EQ(RunVk({"exec", name, "--", "hostname"}).out, name + "\n");

  EXPECT_NE(PsLineOf(name).find("running"), std::string::npos) << PsLineOf(name);
  ProcessResult checkpoint = RunVk({"checkpoint", name});
  EXPECT_NE(checkpoint.exit_code, 0);
  EXPECT_NE(checkpoint.err.find("runs under QEMU (--vmm qemu): checkpoints need virtkit's VMM"),
            std::string::npos)
      << checkpoint.err;
  ProcessResult logs = RunVk({"logs", name});
  EXPECT_EQ(logs.exit_code, 0) << logs.err;

  ProcessResult stopped = RunVk({"stop", name});
  EXPECT_EQ(stopped.exit_code, 0) << stopped.err;
  EXPECT_EQ(QemuProcessesOf(name), "");
  const std::string ps_line = PsLineOf(name);
  EXPECT_NE(ps_line.find("exited"), std::string::npos) << ps_line;
  RunVk({"rm", "-f", name});
}

}  // namespace
}  // namespace vk::e2e
