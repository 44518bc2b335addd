// `vk fleet logs` and `up`'s log view: service logs interleaved line by
// line as they grow, prefixed like docker compose's.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "base/unique_fd.h"
#include "cli/fleet_commands.h"

namespace vk::cli {
namespace {

// compose's colour cycle for service prefixes.
constexpr const char* kColours[] = {"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"};

struct LogView {
  std::string prefix;
  std::string path;
  UniqueFd fd;
  std::string partial;  // a line not ended yet
};

// New complete lines of one log, printed with its prefix.
bool Drain(LogView& view) {
  if (!view.fd) view.fd = UniqueFd(::open(view.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!view.fd) return false;
  bool any = false;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(view.fd.get(), buffer, sizeof(buffer));
    if (n <= 0) break;
    any = true;
    view.partial.append(buffer, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t end; (end = view.partial.find('\n', start)) != std::string::npos; start = end + 1) {
      std::string line = view.prefix + view.partial.substr(start, end - start + 1);
      (void)!::write(STDOUT_FILENO, line.data(), line.size());
    }
    view.partial.erase(0, start);
  }
  return any;
}

}  // namespace

int FollowServiceLogs(const fleet::FleetDir& dir, const std::vector<std::string>& services,
                      bool follow, bool prefixed, const volatile bool* stop) {
  size_t width = 0;
  for (const std::string& name : services) width = std::max(width, name.size());
  bool colour = ::isatty(STDOUT_FILENO) != 0;
  std::vector<LogView> views;
  for (size_t i = 0; i < services.size(); ++i) {
    LogView view;
    view.path = dir.ServiceLog(services[i]);
    if (prefixed) {
      std::string label = services[i] + std::string(width - services[i].size(), ' ') + " | ";
      view.prefix = colour ? std::string("\033[") + kColours[i % std::size(kColours)] + "m" +
                                 label + "\033[0m"
                           : label;
    }
    views.push_back(std::move(view));
  }
  for (;;) {
    bool any = false;
    for (LogView& view : views) any |= Drain(view);
    if (!follow || (stop != nullptr && *stop)) break;
    if (!any && !fleet::LiveController(dir)) break;
    if (!any) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (LogView& view : views) {
    if (view.partial.empty()) continue;
    std::string line = view.prefix + view.partial + "\n";
    (void)!::write(STDOUT_FILENO, line.data(), line.size());
  }
  return 0;
}

}  // namespace vk::cli
