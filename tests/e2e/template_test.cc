// End-to-end: VMs start from warm templates (docs/snapshots.md). Two VMs
// restored from one template must still be two machines (entropy, MAC,
// address, clock), and a template is never used for another guest or when
// it is damaged.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>

#include "e2e/busybox_vm_test.h"

namespace vk::e2e {
namespace {

namespace fs = std::filesystem;

constexpr char kMakingTemplate[] = "preparing a warm template";

class TemplateTest : public BusyboxVmTest {};

struct GuestFacts {
  std::string mac, address, random;
  long clock = 0;
};

// One guest process prints everything the test compares.
constexpr char kFactsScript[] =
    "cat /sys/class/net/eth0/address; ip -4 addr show eth0 | grep -o 'inet [0-9.]*'; "
    "head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n'; echo; date +%s";

GuestFacts ParseFacts(const std::string& out) {
  GuestFacts facts;
  std::istringstream lines(out);
  std::string clock;
  std::getline(lines, facts.mac);
  std::getline(lines, facts.address);
  std::getline(lines, facts.random);
  std::getline(lines, clock);
  facts.clock = clock.empty() ? 0 : std::stol(clock);
  return facts;
}

TEST_F(TemplateTest, ClonesOfOneTemplateDifferInEntropyMacAndAddressAndKeepTheHostClock) {
  std::string sock = dir_.path() + "/lan.sock";
  BackgroundVk lan({"switch", "--listen", sock});
  for (int i = 0; i < 100 && !fs::exists(sock); ++i) ::usleep(50000);
  ASSERT_TRUE(fs::exists(sock));
  auto launch = [&](const std::string& name) {
    return RunVk({"launch", "--disk", disk_, "--read-only", "--net=" + sock, "--name", name, "--",
                  "sh", "-c", kFactsScript});
  };
  std::string suffix = std::to_string(::getpid());
  ScopedVm warmup("tpl-warm-" + suffix), a("tpl-a-" + suffix), b("tpl-b-" + suffix);
  // The shape's template first, so both clones below are restores.
  ProcessResult first = launch(warmup.name());
  ASSERT_EQ(first.exit_code, 0) << first.err;

  long before = static_cast<long>(::time(nullptr));
  auto run_a = std::async(std::launch::async, launch, a.name());
  auto run_b = std::async(std::launch::async, launch, b.name());
  ProcessResult ra = run_a.get(), rb = run_b.get();
  long after = static_cast<long>(::time(nullptr));
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  EXPECT_EQ(ra.err.find(kMakingTemplate), std::string::npos) << ra.err;
  EXPECT_EQ(rb.err.find(kMakingTemplate), std::string::npos) << rb.err;

  GuestFacts fa = ParseFacts(ra.out), fb = ParseFacts(rb.out);
  EXPECT_EQ(fa.random.size(), 32u) << ra.out;
  EXPECT_NE(fa.random, fb.random) << ra.out << rb.out;
  EXPECT_EQ(fa.mac.size(), 17u) << ra.out;
  EXPECT_NE(fa.mac, fb.mac) << ra.out << rb.out;
  EXPECT_NE(fa.address.find("inet 192.168.127."), std::string::npos) << ra.out;
  EXPECT_NE(fa.address, fb.address) << ra.out << rb.out;
  // The template was saved minutes ago; each clone's clock is the host's.
  for (long clock : {fa.clock, fb.clock}) {
    EXPECT_GE(clock, before - 1);
    EXPECT_LE(clock, after + 1);
  }
}

// A --kernel file gets a template of its own, reused by the next VM; a
// damaged one is made again. (A changed kernel file changing the template's
// key is covered without booting: GuestFilesTest and TemplateKeyTest.)
TEST_F(TemplateTest, AKernelFilesTemplateIsReusedAndMadeAgainWhenDamaged) {
  // A cache of the test's own, so the templates it counts are its own.
  std::string cache = dir_.path() + "/cache";
  std::string snapshots = cache + "/virtkit/snapshots";
  ASSERT_EQ(RunVk({"guest-assets", dir_.path()}).exit_code, 0);
  std::string kernel = dir_.path() + "/vmlinux";

  auto launch = [&](const std::string& with_kernel) {
    return RunProcess({"env", "XDG_CACHE_HOME=" + cache, VK_BINARY, "launch", "--kernel",
                       with_kernel, "--disk", disk_, "--read-only", "--", "echo", "ran"});
  };
  auto templates = [&] {
    std::vector<fs::path> dirs;
    for (const auto& entry : fs::directory_iterator(snapshots)) {
      if (entry.is_directory() && entry.path().extension().empty()) dirs.push_back(entry.path());
    }
    return dirs;
  };

  ProcessResult made = launch(kernel);
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_EQ(made.out, "ran\n");
  EXPECT_NE(made.err.find(kMakingTemplate), std::string::npos) << made.err;
  ProcessResult reused = launch(kernel);
  ASSERT_EQ(reused.exit_code, 0) << reused.err;
  EXPECT_EQ(reused.err.find(kMakingTemplate), std::string::npos) << reused.err;
  std::vector<fs::path> before = templates();
  ASSERT_EQ(before.size(), 1u);

  // A flipped byte in the first template: refused, made again, and the run
  // still succeeds.
  std::string state = (before[0] / "state").string();
  {
    std::fstream file(state, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(200);
    char byte = 0;
    file.read(&byte, 1);
    file.seekp(200);
    byte = static_cast<char>(byte ^ 0x5a);
    file.write(&byte, 1);
  }
  ProcessResult repaired = launch(kernel);
  ASSERT_EQ(repaired.exit_code, 0) << repaired.err;
  EXPECT_EQ(repaired.out, "ran\n");
  EXPECT_NE(repaired.err.find("cannot be used"), std::string::npos) << repaired.err;
  EXPECT_EQ(templates().size(), 1u);
}

}  // namespace
}  // namespace vk::e2e
