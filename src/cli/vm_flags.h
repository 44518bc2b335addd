// The VM options `vk run` and `vk launch` share, parsed once: --cpus N|host,
// --mem SIZE, --name, -d, --boot-timeout, --timeout, --cold, -e, --hostname
// and the network flags (cli/net_flags.h). Sizes go through the runtime's one
// parser (runtime/machine_size.h), which the library uses too.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "cli/net_flags.h"
#include "runtime/machine_size.h"
#include "runtime/vmm_kind.h"

namespace vk::cli {

struct VmFlags {
  std::string cpus = "1";
  std::string memory;  // the command's default
  std::string name;
  bool detach = false;
  int boot_timeout_seconds = 180;
  int timeout_seconds = 0;
  bool cold = false;
  std::string vmm;  // empty: VIRTKIT_VMM, else virtkit's
  std::vector<std::string> env;
  std::string hostname;
  NetFlags net;

  explicit VmFlags(std::string default_memory) : memory(std::move(default_memory)) {}

  void Add(CLI::App& app) {
    app.add_option("--cpus", cpus, "vCPUs: N (1-64) or host");
    app.add_option("--mem,--memory", memory,
                   "Guest memory, e.g. 512M, 4G (default " + memory + ", allocated lazily)");
    app.add_option("--name", name, "Name the VM (vk exec/ps/stop/logs/rm use it)");
    app.add_flag("-d,--detach", detach, "Run in the background once the guest agent answers");
    app.add_option("--boot-timeout", boot_timeout_seconds,
                   "With -d: seconds to wait for the guest agent (default 180)")
        ->check(CLI::Range(1, 7 * 24 * 3600));
    app.add_option("--timeout", timeout_seconds, "Stop the VM after SECONDS")
        ->check(CLI::NonNegativeNumber);
    app.add_flag("--cold", cold,
                 "Boot the kernel instead of restoring the warm template of this VM shape (also "
                 "VIRTKIT_COLD_BOOT=1)");
    app.add_option("--vmm", vmm,
                   "The VMM: virtkit (default) or qemu (qemu-system-x86_64 7.2+; no templates or "
                   "checkpoints; docs/backends.md). Also VIRTKIT_VMM");
    app.add_option("-e,--env", env, "Set K=V in the command's environment (repeatable)");
    app.add_option("--hostname", hostname, "Guest hostname (default: the VM's name)");
    net.Add(app);
  }

  // Sets the fields LaunchOptions and RunSpec share (same names in both).
  // Bad sizes are ErrorKind::kUsage naming the flag.
  template <typename Options>
  Result<void> ApplyTo(Options& o) const {
    o.cpus = VK_TRY(ParseCpus(cpus));
    o.memory_bytes = VK_TRY(ParseMemory(memory));
    o.name = name;
    o.detach = detach;
    o.boot_timeout = std::chrono::seconds(boot_timeout_seconds);
    if (timeout_seconds > 0) o.timeout = std::chrono::seconds(timeout_seconds);
    o.cold = cold;
    o.vmm = VK_TRY(ChooseVmm(vmm));
    o.env.insert(o.env.end(), env.begin(), env.end());
    o.hostname = hostname;
    o.network = net.ToOptions();
    return Ok();
  }
};

}  // namespace vk::cli
