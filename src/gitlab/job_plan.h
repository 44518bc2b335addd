// Everything `prepare` needs to boot a job's VM, decided from the runner
// host's config and the job's requests before anything starts, so a
// refused request fails the job with nothing to clean up.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "gitlab/config.h"
#include "gitlab/stage_env.h"

namespace vk::gitlab {

// Where the job finds things in its VM (the config stage reports the first
// two to the runner, which writes its scripts for them).
inline constexpr std::string_view kGuestCacheDir = "/cache";
inline constexpr std::string_view kGuestArtifactsDir = "/artifacts";
// The read-only share the run stage hands each stage script through.
inline constexpr std::string_view kGuestScriptsDir = "/vk-gitlab";

struct JobPlan {
  std::string name;  // the VM's, JobVmName()
  std::string image;
  unsigned cpus = 1;
  uint64_t memory_bytes = 0;
  std::string user;  // empty: the image's
  std::vector<std::string> egress_allow;
  std::string cache_host_dir;      // the project's cache, shared as /cache
  std::string artifacts_host_dir;  // shared as /artifacts; empty: none
  std::vector<std::string> notes;  // limits applied to requests, for the job log
};

// The job's image (CI_JOB_IMAGE, else the default), size (MICROVM_CPUS,
// MICROVM_MEM, capped by max_cpus / max_memory), user (MICROVM_USER, else
// the config's) and egress (EgressFor). A request the config forbids is a
// kUsage error: the job's own fault, so the runner reports a job failure.
Result<JobPlan> PlanJob(const Config& config, const StageEnv& env, const JobIdentity& job,
                        const std::string& data_dir);

// The user the stage scripts run as: MICROVM_USER, else the config's.
Result<std::string> JobUser(const Config& config, const StageEnv& env);

}  // namespace vk::gitlab
