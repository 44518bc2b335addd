// The API side of bench/library.sh (built by it against build/release's
// libvirtkit.so):
//   library_bench run ROOTFS NAME   Run() of a detached VM: prints "run_ms MS"
//                                   (call to return: the agent answered), then
//                                   stops it (bench/library.sh reads its
//                                   VIRTKIT_STATS lines and removes it).
//   library_bench exec NAME RUNS    Exec({"true"}) into NAME RUNS times:
//                                   prints "exec_ms MEDIAN".
#include <virtkit/virtkit.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

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
  std::cout << "run_ms " << Ms(took) << "\n";
  // Stopped, not removed: its VMM's VIRTKIT_STATS lines (written when it
  // ends, into its log) are read by bench/library.sh with `vk logs`.
  if (auto stopped = vm->Stop(std::chrono::seconds(5)); !stopped) return Fail(stopped.error());
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
  if (args.size() == 3 && args[0] == "exec") return ExecMany(args[1], std::atoi(args[2].c_str()));
  std::cerr << "usage: library_bench run ROOTFS NAME | exec NAME RUNS\n";
  return 2;
}
