// The API side of bench/library.sh (built by it against build/release's
// libvirtkit.so):
//   library_bench run ROOTFS NAME   Run() of a detached VM (default network:
//                                   its own LAN): prints "run_ms MS" (call to
//                                   return: the agent answered) and "start_ns
//                                   NS" (CLOCK_MONOTONIC at the call), then
//                                   stops it (bench/library.sh reads its
//                                   VIRTKIT_STATS lines and removes it).
//   library_bench vkrun VK ROOTFS NAME
//                                   the same with `VK run -d --net`, spawned
//                                   from here, so both start the same way.
//   library_bench exec NAME RUNS    Exec({"true"}) into NAME RUNS times:
//                                   prints "exec_ms MEDIAN".
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <virtkit/virtkit.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
long long Ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

int Fail(const virtkit::Error& error) {
  std::cerr << "library_bench: " << error.message() << "\n";
  return 1;
}

int RunOnce(const std::string& rootfs, const std::string& name) {
  virtkit::Options options;
  options.rootfs_path = rootfs;
  options.name = name;
  options.detach = true;
  options.builtin_preflight = false;  // timed like `vk run`, which has none
  options.init = {"sleep", "100000"};
  options.on_warning = [](std::string_view line) { std::cerr << line << "\n"; };
  auto start = Clock::now();
  auto vm = virtkit::Run("", options);
  auto took = Clock::now() - start;
  if (!vm) return Fail(vm.error());
  std::cout << "run_ms " << Ms(took) << "\nstart_ns " << Ns(start) << "\n";
  // Stopped, not removed: its VMM's VIRTKIT_STATS lines (written when it
  // ends, into its log) are read by bench/library.sh with `vk logs`.
  if (auto stopped = vm->Stop(std::chrono::seconds(5)); !stopped) return Fail(stopped.error());
  return 0;
}

// `vk run -d --net` of the same VM, timed from its spawn (the VM is stopped
// by bench/library.sh, which reads its log).
int VkRunOnce(const std::string& vk, const std::string& rootfs, const std::string& name) {
  std::vector<std::string> args = {vk,       "run", "-d", "--net", "--rootfs", rootfs,
                                   "--name", name,  "--", "sleep", "100000"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  auto start = Clock::now();
  pid_t pid = 0;
  if (::posix_spawn(&pid, vk.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
    std::cerr << "library_bench: cannot start " << vk << "\n";
    return 1;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  auto took = Clock::now() - start;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::cerr << "library_bench: vk run -d failed\n";
    return 1;
  }
  std::cout << "run_ms " << Ms(took) << "\nstart_ns " << Ns(start) << "\n";
  return 0;
}

int ExecMany(const std::string& name, int runs) {
  auto vm = virtkit::Attach(name);
  if (!vm) return Fail(vm.error());
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    auto start = Clock::now();
    auto result = vm->Exec({"true"});
    times.push_back(Ms(Clock::now() - start));
    if (!result) return Fail(result.error());
  }
  std::sort(times.begin(), times.end());
  std::cout << "exec_ms " << times[times.size() / 2] << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 3 && args[0] == "run") return RunOnce(args[1], args[2]);
  if (args.size() == 4 && args[0] == "vkrun") return VkRunOnce(args[1], args[2], args[3]);
  if (args.size() == 3 && args[0] == "exec") return ExecMany(args[1], std::atoi(args[2].c_str()));
  std::cerr << "usage: library_bench run ROOTFS NAME | vkrun VK ROOTFS NAME | exec NAME RUNS\n";
  return 2;
}
