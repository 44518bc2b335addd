#include "base/spawn.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace vk {
namespace {

TEST(SpawnTest, AChildDyingWithItsParentRunsAndReportsItsStatus) {
  SpawnOptions options;
  options.die_with_parent = true;
  auto pid = SpawnProcess({"/bin/sh", "-c", "exit 3"}, options);
  ASSERT_TRUE(pid.ok()) << pid.error().message();
  ChildProcess child(*pid);
  const int status = child.Wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
}

TEST(SpawnTest, DyingWithTheParentNeedsAnAbsoluteExistingProgram) {
  SpawnOptions options;
  options.die_with_parent = true;
  EXPECT_FALSE(SpawnProcess({"sh", "-c", "true"}, options).ok());
  auto missing = SpawnProcess({"/nonexistent/qemu"}, options);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind(), ErrorKind::kNotFound);
}

// The property --vmm qemu rests on: vk SIGKILLed leaves no QEMU behind.
TEST(SpawnTest, AChildDyingWithItsParentIsKilledWhenTheParentIsKilled) {
  int pids[2];
  ASSERT_EQ(::pipe(pids), 0);
  const pid_t parent = ::fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {  // the "vk": spawns a long sleeper, reports its pid, waits to be killed
    ::close(pids[0]);
    SpawnOptions options;
    options.die_with_parent = true;
    auto pid = SpawnProcess({"/bin/sleep", "300"}, options);
    const pid_t sleeper = pid.ok() ? *pid : -1;
    if (::write(pids[1], &sleeper, sizeof(sleeper)) != sizeof(sleeper)) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  ::close(pids[1]);
  pid_t sleeper = -1;
  ASSERT_EQ(::read(pids[0], &sleeper, sizeof(sleeper)), static_cast<ssize_t>(sizeof(sleeper)));
  ::close(pids[0]);
  ASSERT_GT(sleeper, 0);
  ::kill(parent, SIGKILL);
  ::waitpid(parent, nullptr, 0);
  // The sleeper is the killed parent's child, reaped by init (or a
  // subreaper): gone from /proc, or a zombie, within a few seconds.
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    gone = ::kill(sleeper, 0) != 0;
    if (!gone) {
      char state = 0;
      FILE* stat = std::fopen(("/proc/" + std::to_string(sleeper) + "/stat").c_str(), "r");
      if (stat != nullptr) {
        int ignored_pid;
        char name[64];
        gone = std::fscanf(stat, "%d %63s %c", &ignored_pid, name, &state) == 3 && state == 'Z';
        std::fclose(stat);
      }
    }
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone) << "pid " << sleeper << " outlived its parent";
  if (!gone) ::kill(sleeper, SIGKILL);
}

}  // namespace
}  // namespace vk
