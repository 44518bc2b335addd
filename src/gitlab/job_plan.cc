#include "gitlab/job_plan.h"

#include "base/strings.h"
#include "gitlab/policy.h"

namespace vk::gitlab {
namespace {

// name, uid, name:group or uid:gid, as `vk exec --user`; it reaches the
// agent, never a shell, but a bound keeps a job's junk out of the logs.
constexpr size_t kMaxUserLength = 65;

bool UserCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == ':';
}

Result<std::string> ImageOf(const Config& config, const StageEnv& env) {
  std::string image = env.Job("CI_JOB_IMAGE").value_or(config.default_image);
  if (image.empty()) {
    return Error(ErrorKind::kUsage,
                 "the job names no image and the runner's config has no default_image: set "
                 "`image:` in .gitlab-ci.yml or default_image in gitlab.toml");
  }
  if (!ImageAllowed(image, config)) {
    return Error(ErrorKind::kUsage,
                 "the image " + image + " is not in the runner's allowed_images (gitlab.toml)");
  }
  return image;
}

Result<unsigned> CpusOf(const Config& config, const StageEnv& env, JobPlan& plan) {
  auto asked = env.Job("MICROVM_CPUS");
  if (!asked) return config.cpus;
  auto value = ParseUint(*asked);
  if (!value || *value == 0) {
    return Error(ErrorKind::kUsage, "MICROVM_CPUS=" + *asked + ": expected a number >= 1");
  }
  if (*value > config.max_cpus) {
    plan.notes.push_back("MICROVM_CPUS=" + *asked + " capped to the runner's max_cpus, " +
                         std::to_string(config.max_cpus));
    return config.max_cpus;
  }
  return static_cast<unsigned>(*value);
}

Result<uint64_t> MemoryOf(const Config& config, const StageEnv& env, JobPlan& plan) {
  auto asked = env.Job("MICROVM_MEM");
  if (!asked) return config.memory_bytes;
  uint64_t bytes = VK_TRY(ParseSize(*asked).WithKind(ErrorKind::kUsage).Context("MICROVM_MEM"));
  if (bytes > config.max_memory_bytes) {
    plan.notes.push_back("MICROVM_MEM=" + *asked + " capped to the runner's max_memory, " +
                         std::to_string(config.max_memory_bytes >> 20) + " MiB");
    return config.max_memory_bytes;
  }
  return bytes;
}

std::string CacheRoot(const Config& config, const std::string& data_dir) {
  return config.cache_dir.empty() ? data_dir + "/gitlab/cache" : config.cache_dir;
}

}  // namespace

Result<std::string> JobUser(const Config& config, const StageEnv& env) {
  std::string user = env.Job("MICROVM_USER").value_or(config.user);
  if (user.size() > kMaxUserLength ||
      (!user.empty() && (user.front() == ':' || user.front() == '-'))) {
    return Error(ErrorKind::kUsage, "MICROVM_USER: expected name, uid, name:group or uid:gid");
  }
  for (char c : user) {
    if (!UserCharacter(c)) {
      return Error(ErrorKind::kUsage, "MICROVM_USER: expected name, uid, name:group or uid:gid");
    }
  }
  return user;
}

Result<JobPlan> PlanJob(const Config& config, const StageEnv& env, const JobIdentity& job,
                        const std::string& data_dir) {
  JobPlan plan;
  plan.name = JobVmName(job);
  plan.image = VK_TRY(ImageOf(config, env));
  plan.cpus = VK_TRY(CpusOf(config, env, plan));
  plan.memory_bytes = VK_TRY(MemoryOf(config, env, plan));
  plan.user = VK_TRY(JobUser(config, env));
  // The runner's own environment (its administrator's) replaces the file's
  // policy; the job's variable can only narrow what results.
  auto host_policy = env.Get("MICROVM_EGRESS_ALLOW");
  std::vector<std::string> admin = config.egress_allow;
  if (host_policy && !host_policy->empty()) admin = VK_TRY(EgressFor({}, *host_policy));
  plan.egress_allow = VK_TRY(EgressFor(admin, env.Job("MICROVM_EGRESS_ALLOW").value_or("")));
  // One cache per project: a job reads its own project's caches only.
  plan.cache_host_dir = CacheRoot(config, data_dir) + "/project-" + job.project_id;
  if (!config.artifacts_dir.empty())
    plan.artifacts_host_dir = config.artifacts_dir + "/" + job.job_id;
  return plan;
}

}  // namespace vk::gitlab
