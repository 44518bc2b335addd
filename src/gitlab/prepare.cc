// prepare: plan the job, take a slot, boot its VM detached, set up the
// builds dir and pick the shell. Anything that fails after the slot was
// taken is undone here, so a failed prepare leaves no VM behind (cleanup
// still runs and finds nothing).
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <thread>

#include "base/private_dir.h"
#include "gitlab/job_plan.h"
#include "gitlab/job_vm.h"
#include "gitlab/outcome.h"
#include "gitlab/reaper.h"
#include "gitlab/stages.h"

namespace vk::gitlab {
namespace {

constexpr auto kSlotPoll = std::chrono::seconds(2);
// host.lan: the LAN's gateway, where the host's loopback services appear
// (docs/networking.md, "host.lan is your loopback").
constexpr std::string_view kGatewayAddress = "192.168.127.1";
// The VM only has to stay up: the run stage execs each script into it.
constexpr char kIdleCommand[] = "while :; do sleep 3600; done";
// Run once as root in the new VM ($1 builds dir, $2 user): the builds dir
// owned by the scripts' user, and the shell for them, bash if the image has
// it (the runner's scripts are written for bash unless its shell is sh).
constexpr char kSetUpScript[] =
    "mkdir -p \"$1\" && { [ -z \"$2\" ] || chown \"$2\" \"$1\"; } && { command -v bash || true; }";
constexpr auto kSetUpTimeout = std::chrono::minutes(5);

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

// Waits until fewer than max_jobs jobs hold a slot, reaping strays first,
// then takes one by creating the job's state, all under the jobs lock.
Result<void> TakeSlot(const StageContext& context, const JobStates& states) {
  const auto deadline = std::chrono::steady_clock::now() + context.config.slot_wait;
  bool said = false;
  for (;;) {
    {
      FileLock lock = VK_TRY(states.Lock());
      for (const std::string& line : ReapStrays(states, context.config.stray_age, Now())) {
        Report("prepare", line, 0);
      }
      if (states.Names().size() < context.config.max_jobs) {
        return states.Create(context.name, JobRecord{Now(), "", ""});
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error(ErrorKind::kTimeout,
                   "no free job slot (max_jobs = " + std::to_string(context.config.max_jobs) +
                       ") after " + std::to_string(context.config.slot_wait.count()) + " s");
    }
    if (!said) Report("prepare", "waiting for a free job slot", 0);
    said = true;
    std::this_thread::sleep_for(kSlotPoll);
  }
}

// A host directory the job's VM shares, inside a private parent. A
// non-root guest user can only write it when it is open to all (so it is
// not itself held to the private-directory rule); the parent keeps other
// host users out.
Result<void> MakeShared(const std::string& dir, const std::string& user) {
  VK_TRY(EnsurePrivateDirectory(dir.substr(0, dir.rfind('/'))));
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error::FromErrno("create " + dir);
  }
  bool guest_root = user.empty() || user == "root" || user == "0" || user.starts_with("root:") ||
                    user.starts_with("0:");
  if (::chmod(dir.c_str(), guest_root ? 0700 : 0777) != 0) {
    return Error::FromErrno("chmod " + dir);
  }
  return Ok();
}

// A CI job runs code from the repository: it reaches the outside as the
// egress policy allows, but of the runner host's own loopback services
// (host.lan) only DNS and the ports the config lists.
std::vector<virtkit::FirewallRule> HostRules(const Config& config) {
  using virtkit::FirewallAction;
  using virtkit::FirewallDirection;
  using virtkit::Protocol;
  const std::string host = std::string(kGatewayAddress) + "/32";
  std::vector<virtkit::FirewallRule> rules;
  for (Protocol protocol : {Protocol::kUdp, Protocol::kTcp}) {
    rules.push_back({FirewallAction::kAllow, FirewallDirection::kEgress, protocol, host, 53, 53});
  }
  for (uint16_t port : config.host_ports) {
    rules.push_back(
        {FirewallAction::kAllow, FirewallDirection::kEgress, Protocol::kTcp, host, port, port});
  }
  rules.push_back(
      {FirewallAction::kReject, FirewallDirection::kEgress, std::nullopt, host, 0, 65535});
  return rules;
}

virtkit::Options VmOptions(const StageOptions& options, const StageContext& context,
                           const JobPlan& plan, const JobStates& states) {
  virtkit::Options o;
  o.name = plan.name;
  o.hostname = plan.name;
  o.cpus = plan.cpus;
  o.memory_bytes = plan.memory_bytes;
  o.init = {"/bin/sh", "-c", kIdleCommand};
  o.mounts.push_back({plan.cache_host_dir, std::string(kGuestCacheDir), false, "cache"});
  o.mounts.push_back(
      {states.ScriptsDir(plan.name), std::string(kGuestScriptsDir), true, "scripts"});
  if (!plan.artifacts_host_dir.empty()) {
    o.mounts.push_back(
        {plan.artifacts_host_dir, std::string(kGuestArtifactsDir), false, "artifacts"});
  }
  o.network.egress_allow = plan.egress_allow;
  // An allowlist drops host.lan too unless it is listed (docs/networking.md).
  if (!o.network.egress_allow.empty() && !context.config.host_ports.empty()) {
    o.network.egress_allow.push_back(std::string(kGatewayAddress) + "/32");
  }
  o.network.firewall = HostRules(context.config);
  o.detach = true;
  o.boot_timeout = context.config.boot_timeout;
  o.cold_boot = context.config.cold_boot;
  o.vk_program = options.vk_program;
  // Pull progress and warnings: the job log shows them as they come.
  o.on_warning = [](std::string_view line) {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
  };
  return o;
}

// The builds dir and the shell, as root; a failure here is the job's (a
// user the image does not have), an unreachable agent ours.
Result<std::string> SetUpGuest(virtkit::Vm& vm, const StageContext& context, const JobPlan& plan) {
  virtkit::ExecOptions exec;
  exec.user = "0";
  exec.timeout = kSetUpTimeout;
  auto done =
      vm.Exec({"/bin/sh", "-c", kSetUpScript, "sh", context.config.builds_dir, plan.user}, exec);
  if (!done) return FromLibrary(done.error()).WithContext("set up the job VM");
  if (done->ShellCode() != 0) {
    return Error(ErrorKind::kNotFound, "set up the job VM: status " +
                                           std::to_string(done->ShellCode()) + ": " +
                                           done->stderr_text);
  }
  std::string shell = done->stdout_text;
  while (!shell.empty() && (shell.back() == '\n' || shell.back() == '\r')) shell.pop_back();
  bool usable = !shell.empty() && shell.front() == '/' && shell.find('\n') == std::string::npos;
  return usable ? shell : std::string("/bin/sh");
}

Result<void> BootJob(const StageOptions& options, const StageContext& context, const JobPlan& plan,
                     const JobStates& states) {
  VK_TRY_CTX(MakeShared(plan.cache_host_dir, plan.user), "the cache dir");
  if (!plan.artifacts_host_dir.empty()) {
    VK_TRY_CTX(MakeShared(plan.artifacts_host_dir, plan.user), "the artifacts dir");
  }
  Report("prepare",
         "starting " + plan.name + " from " + plan.image + " (" + std::to_string(plan.cpus) +
             " CPU, " + std::to_string(plan.memory_bytes >> 20) + " MiB)",
         0);
  auto vm = virtkit::Run(plan.image, VmOptions(options, context, plan, states));
  if (!vm) return FromLibrary(vm.error());
  std::string shell = VK_TRY(SetUpGuest(*vm, context, plan));
  JobRecord record = VK_TRY(states.Read(plan.name));
  record.shell = shell;
  record.user = plan.user;
  VK_TRY(states.Write(plan.name, record));
  Report("prepare", plan.name + " is ready; stage scripts run with " + shell, 0);
  return Ok();
}

}  // namespace

int PrepareStage(const StageOptions& options, const StageEnv& env) {
  auto context = LoadStageContext(options, env);
  if (!context.ok()) {
    return Report("prepare", context.error().message(), FailureCodesOf(env).system);
  }
  auto plan = PlanJob(context->config, env, context->job, context->data_dir);
  if (!plan.ok()) {
    const Error& error = plan.error();
    return Report("prepare", error.message(), ExitCodeOf(FailureOf(error.kind()), context->codes));
  }
  for (const std::string& note : plan->notes) Report("prepare", note, 0);
  JobStates states(context->data_dir);
  // A retried prepare (the runner retries system failures) starts afresh.
  if (auto removed = RemoveJob(states, plan->name); !removed.ok()) {
    return Report("prepare", removed.error().message(), context->codes.system);
  }
  if (auto slot = TakeSlot(*context, states); !slot.ok()) {
    return Report("prepare", slot.error().message(), context->codes.system);
  }
  auto booted = BootJob(options, *context, *plan, states);
  if (!booted.ok()) {
    (void)RemoveJob(states, plan->name);  // the slot and any half-started VM
    const Error& error = booted.error();
    return Report("prepare", error.message(), ExitCodeOf(FailureOf(error.kind()), context->codes));
  }
  return 0;
}

}  // namespace vk::gitlab
