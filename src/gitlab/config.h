// The runner host's settings for `vk gitlab` ($VIRTKIT_HOME/gitlab.toml or
// --config FILE, docs/gitlab.md). The file is the runner administrator's:
// everything a job asks for (image, CPUs, memory, user, egress) is checked
// against it (gitlab/job_plan.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::gitlab {

struct Config {
  std::string default_image;  // when the job names none (empty: a job must)
  // fnmatch(3) patterns a job's image must match ("debian:*",
  // "registry.example.com/ci/*"); empty: any image. The default image is
  // always allowed.
  std::vector<std::string> allowed_images;
  unsigned cpus = 1;                   // unless the job asks (MICROVM_CPUS)
  unsigned max_cpus = 2;               // what a job may ask for
  uint64_t memory_bytes = 1ull << 30;  // unless the job asks (MICROVM_MEM)
  uint64_t max_memory_bytes = 4ull << 30;
  std::string user;  // the stage scripts' user (empty: the image's); MICROVM_USER overrides
  // DNS-based egress allowlist ("example.com", "*.example.com", CIDRs);
  // empty: egress is not limited. MICROVM_EGRESS_ALLOW in the runner's
  // environment replaces it; a job's MICROVM_EGRESS_ALLOW may only narrow it.
  std::vector<std::string> egress_allow;
  // Ports of the runner host's loopback services a job may reach as
  // host.lan (e.g. a local cache server); every other port of host.lan but
  // DNS is refused. Empty: none.
  std::vector<uint16_t> host_ports;
  unsigned max_jobs = 4;  // job VMs at once on this host, across runners
  // How long a prepare waits for a free slot before failing the job.
  std::chrono::seconds slot_wait{600};
  // A job VM (or job state) older than this is a stray: the next prepare
  // removes it. Must exceed the longest job timeout of the runners using it.
  std::chrono::seconds stray_age{std::chrono::hours(3)};
  std::chrono::seconds boot_timeout{600};
  // Boot every job VM's kernel instead of restoring its shape's warm
  // template (docs/snapshots.md).
  bool cold_boot = false;
  std::string builds_dir = "/builds";  // in the VM
  // The host directory holding the runners' caches; each project's
  // subdirectory is shared into its jobs' VMs as /cache. Empty:
  // $VIRTKIT_HOME/gitlab/cache.
  std::string cache_dir;
  // Optional host directory: each job's <artifacts_dir>/<job id> is shared
  // into its VM as /artifacts (empty: no such share).
  std::string artifacts_dir;
};

// Parses the TOML text of a config file; `source` names it in errors.
// Unknown keys are errors (a typo must not silently loosen a limit).
Result<Config> ParseConfig(std::string_view text, std::string_view source);

// `path` when given (it must exist), else $VIRTKIT_HOME/gitlab.toml when it
// exists, else the defaults. Relative host directories are refused.
Result<Config> LoadConfig(const std::string& path);

// "90s", "10m", "3h", "2d" or a number of seconds.
Result<std::chrono::seconds> ParseDuration(std::string_view text);

}  // namespace vk::gitlab
