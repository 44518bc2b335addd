// kill -9 at random points of `vk image pull` and `vk image convert`: after
// each kill the store must still be readable (`vk image ls`), the same
// command run again must succeed, and the store must then be sound: the
// image inspects, every blob hashes to its name, the ext4 base passes
// `e2fsck -fn` and holds the image's files, and no temp file of the killed
// process is left. Against Debian's docker-registry on 127.0.0.1, no KVM.
//
// The kill points are drawn uniformly from 0 to the measured length of an
// uninterrupted run; the seed is printed, VIRTKIT_KILL_SEED replays it (the
// same fractions of a run) and VIRTKIT_KILL_TRIALS changes the number of
// trials.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "cli/seed_image.h"
#include "e2e/vk_process.h"
#include "image/test_support.h"
#include "image/testing/local_registry.h"

namespace vk::cli_test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using image::testing::LocalRegistry;
using ::testing::HasSubstr;

constexpr int kDefaultTrials = 20;
// A few MB, gzipped, plus files for the ext4 writer: each run is short,
// yet has a download, a decompression and a base to write to kill it in.
constexpr LayerSpec kLayer{.random_bytes = 8 << 20, .small_files = 300, .gzip = true};
constexpr int kTimingRuns = 3;
constexpr char kFinishedFirst[] = "finished first";

int EnvInt(const char* name, int fallback) {
  const char* text = std::getenv(name);
  return text != nullptr && *text != '\0' ? std::atoi(text) : fallback;
}

// Runs `vk args...` and SIGKILLs it `delay` after the fork. True when the
// kill landed; false when vk had already finished (then it must have
// succeeded).
bool RunVkKilledAfter(const std::vector<std::string>& args, std::chrono::microseconds delay) {
  std::vector<char*> argv{const_cast<char*>("vk")};
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t child = ::fork();
  if (child == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(VK_BINARY, argv.data());
    ::_exit(127);
  }
  std::this_thread::sleep_for(delay);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) return true;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  return false;
}

std::chrono::microseconds TimeOf(const std::vector<std::string>& args) {
  auto start = Clock::now();
  auto run = e2e::RunVk(args);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
}

class KillCli : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(path("tmpdir"));
    ::setenv("TMPDIR", path("tmpdir").c_str(), 1);  // where stray temp files would go
    ::setenv("DOCKER_CONFIG", path("docker").c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("VIRTKIT_HOME");
    ::unsetenv("DOCKER_CONFIG");
    ::unsetenv("TMPDIR");
  }
  std::string path(const std::string& name) const { return dir_.path() + "/" + name; }
  void UseHome(const std::string& home) { ::setenv("VIRTKIT_HOME", home.c_str(), 1); }

  // Every blob's content hashes to its file name (sha256sum's first field).
  static void ExpectBlobsMatchNames(const std::string& home) {
    int blobs = 0;
    for (const auto& entry : fs::directory_iterator(home + "/blobs/sha256")) {
      std::string sum = image::testing::Run("sha256sum " + entry.path().string());
      EXPECT_EQ(sum.substr(0, sum.find(' ')), entry.path().filename().string());
      ++blobs;
    }
    EXPECT_EQ(blobs, 3) << "manifest, config and the layer";
  }

  // No temp file left in the store's tmp/ or in $TMPDIR.
  void ExpectNoTempFiles(const std::string& home) const {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(home + "/tmp", error))
      ADD_FAILURE() << "left behind: " << entry.path();
    for (const auto& entry : fs::directory_iterator(path("tmpdir"), error))
      ADD_FAILURE() << "left behind: " << entry.path();
  }

  // The store after a successful pull (and convert, when `base` is set).
  void ExpectSoundStore(const std::string& home, const std::string& ref, const std::string& base) {
    auto inspect = e2e::RunVk({"image", "inspect", ref});
    EXPECT_EQ(inspect.exit_code, 0) << inspect.err;
    EXPECT_THAT(inspect.out, HasSubstr("\"Cmd\""));
    ExpectBlobsMatchNames(home);
    ExpectNoTempFiles(home);
    if (base.empty()) return;
    EXPECT_EQ(image::testing::Fsck(base), 0) << base;
    EXPECT_EQ(image::testing::Debugfs(base, "cat /data/hello"), "hello from the image\n");
    image::testing::Debugfs(base, "dump /data/random " + path("random.out"));
    EXPECT_EQ(image::testing::Run("cmp " + path("random.out") + " " + path("img/root/data/random") +
                                  " && echo same"),
              "same\n");
  }

  // Kills `args` after `delay`, then checks the store is readable and the
  // same command completes (its stdout in `output`). Returns what the kill
  // left: how far the killed process got.
  std::string KillThenRerun(const std::string& home, const std::vector<std::string>& args,
                            std::chrono::microseconds delay, std::string* output) {
    bool killed = RunVkKilledAfter(args, delay);
    std::error_code error;  // counted before `ls`, whose Store::Open sweeps them
    auto temps = std::distance(fs::directory_iterator(home + "/tmp", error), {});
    auto ls = e2e::RunVk({"image", "ls"});
    EXPECT_EQ(ls.exit_code, 0) << "after a kill at " << delay.count() << " us: " << ls.err;
    std::string left = "tmp=" + std::to_string(temps) +
                       (ls.out.find("/kill/app") != std::string::npos ? " record" : "") +
                       (ls.out.find("built") != std::string::npos ? " base" : "");
    auto again = e2e::RunVk(args);
    EXPECT_EQ(again.exit_code, 0) << "after a kill at " << delay.count() << " us: " << again.err;
    *output = again.out;
    return killed ? "killed, left " + left : kFinishedFirst;
  }

  // Median over a few uninterrupted runs in fresh stores: the first, with
  // cold caches, would put most kill points after the end of a warm run.
  std::pair<std::chrono::microseconds, std::chrono::microseconds> MedianTimes() {
    std::vector<std::chrono::microseconds> pulls, converts;
    for (int i = 0; i < kTimingRuns; ++i) {
      UseHome(path("measure-" + std::to_string(i)));
      pulls.push_back(TimeOf(pull_));
      converts.push_back(TimeOf(convert_));
      fs::remove_all(path("measure-" + std::to_string(i)));
    }
    std::sort(pulls.begin(), pulls.end());
    std::sort(converts.begin(), converts.end());
    return {pulls[kTimingRuns / 2], converts[kTimingRuns / 2]};
  }

  // One trial in a fresh store: pull killed after `pull_delay`, pulled
  // again, checked; then convert likewise. Returns what each kill left.
  std::pair<std::string, std::string> RunTrial(int trial, std::chrono::microseconds pull_delay,
                                               std::chrono::microseconds convert_delay) {
    const std::string home = path("home-" + std::to_string(trial));
    UseHome(home);
    std::string out;
    std::string pull_left = KillThenRerun(home, pull_, pull_delay, &out);
    ExpectSoundStore(home, ref_, "");
    std::string convert_left = KillThenRerun(home, convert_, convert_delay, &out);
    ExpectSoundStore(home, ref_, out.substr(0, out.find('\n')));
    std::printf("kill: trial %2d: pull at %6ld us %-26s convert at %6ld us %s\n", trial,
                static_cast<long>(pull_delay.count()), (pull_left + ";").c_str(),
                static_cast<long>(convert_delay.count()), convert_left.c_str());
    fs::remove_all(home);
    return {pull_left, convert_left};
  }

  e2e::TempDir dir_;
  std::string ref_;
  std::vector<std::string> pull_, convert_;
};

TEST_F(KillCli, KilledPullAndConvertLeaveAStoreTheNextCommandUses) {
  REQUIRE_CLI_REGISTRY_TOOLS();
  if (!image::testing::HaveTool("e2fsck")) GTEST_SKIP() << "needs e2fsck (e2fsprogs)";
  LocalRegistry registry(path("registry"));
  ASSERT_TRUE(registry.ready());
  SeedImage(registry, path("img"), "kill/app:v1", kLayer);
  ref_ = registry.host() + "/kill/app:v1";
  pull_ = {"image", "pull", "--insecure", ref_};
  convert_ = {"image", "convert", "--pull", "never", ref_};

  const auto [pull_time, convert_time] = MedianTimes();
  const char* replay = std::getenv("VIRTKIT_KILL_SEED");
  const auto seed = replay != nullptr ? static_cast<uint32_t>(std::strtoul(replay, nullptr, 10))
                                      : static_cast<uint32_t>(::time(nullptr) ^ ::getpid());
  const int trials = EnvInt("VIRTKIT_KILL_TRIALS", kDefaultTrials);
  std::printf(
      "kill: seed %u (VIRTKIT_KILL_SEED=%u replays), %d trials; uninterrupted pull %ld "
      "ms, convert %ld ms\n",
      seed, seed, trials, static_cast<long>(pull_time.count() / 1000),
      static_cast<long>(convert_time.count() / 1000));
  std::mt19937 random(seed);
  // Fractions of a run, so a seed replays the same points on a faster or
  // slower machine.
  std::uniform_real_distribution<double> fraction(0.0, 1.0);
  auto at = [&](std::chrono::microseconds length) {
    return std::chrono::microseconds(static_cast<int64_t>(fraction(random) * length.count()));
  };
  int trial = 0, pulls_killed = 0, converts_killed = 0;
  auto start = Clock::now();
  for (; trial < trials && !HasFailure(); ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial) + ", VIRTKIT_KILL_SEED=" + std::to_string(seed));
    const auto pull_delay = at(pull_time), convert_delay = at(convert_time);
    auto [pull_left, convert_left] = RunTrial(trial, pull_delay, convert_delay);
    pulls_killed += pull_left != kFinishedFirst;
    converts_killed += convert_left != kFinishedFirst;
  }
  std::printf(
      "kill: %d trials in %.1f s; kills landed: pull %d, convert %d (the rest finished "
      "first)\n",
      trial, std::chrono::duration<double>(Clock::now() - start).count(), pulls_killed,
      converts_killed);
}

}  // namespace
}  // namespace vk::cli_test
