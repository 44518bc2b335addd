#include "fleet/compose_keys.h"

#include <span>

namespace vk::fleet {
namespace {

constexpr KeySupport S = KeySupport::kSupported;
constexpr KeySupport I = KeySupport::kIgnored;
constexpr KeySupport N = KeySupport::kNotYet;

// Reasons shared by several keys.
constexpr std::string_view kOwnKernel =
    "a VM has its own kernel; the VM boundary replaces container isolation";
constexpr std::string_view kCgroup = "cgroup tuning of a container; a VM gets cpus and memory";
constexpr std::string_view kLan =
    "every service is on the fleet LAN and answers as NAME and NAME.lan";

// compose-spec schema, service properties (compose-spec.json, 2025).
constexpr ComposeKey kServiceKeys[] = {
    {"annotations", I, "container metadata; VMs carry none"},
    {"attach", I, "vk fleet logs shows any service's output"},
    {"blkio_config", I, kCgroup},
    {"build", S, ""},
    {"cap_add", I, kOwnKernel},
    {"cap_drop", I, kOwnKernel},
    {"cgroup", I, kOwnKernel},
    {"cgroup_parent", I, kCgroup},
    {"command", S, ""},
    {"configs", N, "configs are not supported yet; bind-mount the file instead"},
    {"container_name", I, "a service's VM is named after the service"},
    {"cpu_count", I, "Windows containers only; use cpus"},
    {"cpu_percent", I, "Windows containers only; use cpus"},
    {"cpu_period", I, kCgroup},
    {"cpu_quota", I, kCgroup},
    {"cpu_rt_period", I, kCgroup},
    {"cpu_rt_runtime", I, kCgroup},
    {"cpu_shares", I, kCgroup},
    {"cpus", S, ""},
    {"cpuset", I, kCgroup},
    {"credential_spec", I, "Windows containers only"},
    {"depends_on", S, ""},
    {"deploy", S, ""},
    {"develop", I, "compose watch is not supported; bind-mount the source instead"},
    {"device_cgroup_rules", I, kOwnKernel},
    {"devices", I, "host devices are not passed through to microVMs"},
    {"dns", I, "the fleet LAN's DNS server answers the guests"},
    {"dns_opt", I, "the fleet LAN's DNS server answers the guests"},
    {"dns_search", I, "guests search the fleet's lan domain"},
    {"domainname", I, "guests are in the fleet's lan domain"},
    {"driver_opts", I, "network driver options; the fleet has one LAN"},
    {"entrypoint", S, ""},
    {"env_file", S, ""},
    {"environment", S, ""},
    {"expose", I, "every port of a service is reachable on the fleet LAN"},
    {"extends", N, "extends is not supported yet; use YAML anchors and merge keys"},
    {"external_links", I, kLan},
    {"extra_hosts", N, "extra_hosts is not supported yet; use vk fleet --hosts"},
    {"gpus", I, "GPUs are not passed through to microVMs"},
    {"group_add", I, "supplementary groups are the guest's /etc/group"},
    {"healthcheck", S, ""},
    {"hostname", S, ""},
    {"image", S, ""},
    {"init", I, "vk-agent is the guest's init and reaps processes"},
    {"ipc", I, kOwnKernel},
    {"isolation", I, "Windows containers only"},
    {"label_file", I, "container metadata; VMs carry none"},
    {"labels", I, "container metadata; VMs carry none"},
    {"links", I, kLan},
    {"logging", I, "the fleet keeps each VM's console and output itself"},
    {"mac_address", I, "the fleet assigns guest MAC and IP addresses"},
    {"mem_limit", S, ""},
    {"mem_reservation", I, "a VM's memory is a fixed size; use mem_limit"},
    {"mem_swappiness", I, kCgroup},
    {"memswap_limit", I, kCgroup},
    {"models", N, "models are not supported yet"},
    {"network_mode", I, "each VM has its own network stack on the fleet LAN"},
    {"networks", I, "the fleet has one LAN; networks other than the default are not supported yet"},
    {"oom_kill_disable", I, kCgroup},
    {"oom_score_adj", I, "the guest kernel's OOM killer acts inside the VM"},
    {"pid", I, kOwnKernel},
    {"pids_limit", I, kCgroup},
    {"platform", I, "guests are x86_64 VMs"},
    {"ports", S, ""},
    {"post_start", N, "lifecycle hooks are not supported yet"},
    {"pre_stop", N, "lifecycle hooks are not supported yet"},
    {"privileged", I, kOwnKernel},
    {"profiles", S, ""},
    {"provider", N, "provider services are not supported yet"},
    {"pull_policy", I, "images are pulled when missing from the store"},
    {"pull_refresh_after", I, "images are pulled when missing from the store"},
    {"read_only", I, "a VM's root is a throwaway overlay over a read-only image"},
    {"restart", S, ""},
    {"runtime", I, "the runtime is vk's microVM"},
    {"scale", N, "more than one VM per service is not supported yet"},
    {"secrets", N, "secrets are not supported yet; bind-mount the file read-only instead"},
    {"security_opt", I, kOwnKernel},
    {"shm_size", I, "/dev/shm is the guest kernel's, sized from the VM's memory"},
    {"stdin_open", I, "vk fleet exec gives an interactive shell"},
    {"stop_grace_period", I, "not supported yet: VMs get a fixed grace period"},
    {"stop_signal", I, "not supported yet: VMs are stopped with SIGTERM"},
    {"storage_opt", I, "a VM's writable layer is a sparse scratch disk"},
    {"sysctls", I, "sysctls are the guest kernel's; set them inside the VM"},
    {"tmpfs", I, "not supported yet: mount a tmpfs from the command"},
    {"tty", I, "vk fleet exec gives a terminal"},
    {"ulimits", I, "limits are the guest kernel's; set them inside the VM"},
    {"use_api_socket", I, "there is no container engine socket in a VM"},
    {"user", S, ""},
    {"userns_mode", I, kOwnKernel},
    {"uts", I, kOwnKernel},
    {"volumes", S, ""},
    {"volumes_from", N, "volumes_from is not supported yet; bind-mount the directories"},
    {"working_dir", S, ""},
};

constexpr ComposeKey kTopLevelKeys[] = {
    {"configs", N, "configs are not supported yet"},
    {"include", N, "include is not supported yet; pass one compose file"},
    {"models", N, "models are not supported yet"},
    {"name", S, ""},
    {"networks", I, "the fleet has one LAN; networks other than the default are not supported yet"},
    {"secrets", N, "secrets are not supported yet"},
    {"services", S, ""},
    {"version", I, "obsolete in the compose spec"},
    {"volumes", I, "named volumes are not supported yet (a service using one is refused)"},
};

constexpr ComposeKey kDeployKeys[] = {
    {"endpoint_mode", I, "swarm orchestration"},
    {"labels", I, "swarm orchestration"},
    {"mode", I, "swarm orchestration"},
    {"placement", I, "swarm orchestration"},
    {"replicas", I, "one VM per service"},
    {"resources", S, ""},
    {"restart_policy", I, "swarm orchestration; use restart"},
    {"rollback_config", I, "swarm orchestration"},
    {"update_config", I, "swarm orchestration"},
};

constexpr ComposeKey kResourceKeys[] = {
    {"limits", S, ""},
    {"reservations", I, "a VM's size is fixed by its limits"},
};

constexpr ComposeKey kLimitKeys[] = {
    {"cpus", S, ""},
    {"memory", S, ""},
    {"pids", I, kCgroup},
};

constexpr ComposeKey kBuildKeys[] = {
    {"additional_contexts", N, "additional build contexts are not supported by vk build yet"},
    {"args", S, ""},
    {"cache_from", I, "vk build keeps its own step cache"},
    {"cache_to", I, "vk build keeps its own step cache"},
    {"context", S, ""},
    {"dockerfile", S, ""},
    {"dockerfile_inline", N, "inline Dockerfiles are not supported yet; write a Dockerfile"},
    {"entitlements", I, "RUN steps run in a VM of their own"},
    {"extra_hosts", I, "RUN steps use the build VM's own resolver"},
    {"isolation", I, "Windows containers only"},
    {"labels", I, "image labels are not supported yet"},
    {"network", I, "RUN steps get a network with vk build --net"},
    {"no_cache", I, "use vk build --no-cache"},
    {"platforms", I, "images are built for x86_64"},
    {"privileged", I, kOwnKernel},
    {"provenance", I, "attestations are not produced"},
    {"pull", I, "base images are pulled when missing from the store"},
    {"sbom", I, "attestations are not produced"},
    {"secrets", N, "build secrets from compose are not supported yet; use vk build --secret"},
    {"shm_size", I, "/dev/shm is the build VM kernel's"},
    {"ssh", N, "SSH agent forwarding is not supported by vk build yet"},
    {"tags", I, "the image is stored under the service's image name"},
    {"target", S, ""},
    {"ulimits", I, "limits are the build VM kernel's"},
};

constexpr ComposeKey kHealthcheckKeys[] = {
    {"disable", S, ""},      {"interval", S, ""}, {"retries", S, ""}, {"start_interval", S, ""},
    {"start_period", S, ""}, {"test", S, ""},     {"timeout", S, ""},
};

constexpr ComposeKey kPortKeys[] = {
    {"app_protocol", I, "informational"},
    {"host_ip", S, ""},
    {"mode", I, "ingress and host modes are swarm's; vk forwards from the host"},
    {"name", I, "informational"},
    {"protocol", S, ""},
    {"published", S, ""},
    {"target", S, ""},
};

constexpr ComposeKey kVolumeKeys[] = {
    {"bind", S, ""},
    {"consistency", I, "virtio-fs has one consistency mode"},
    {"image", N, "image volumes are not supported yet"},
    {"read_only", S, ""},
    {"source", S, ""},
    {"target", S, ""},
    {"tmpfs", N, "tmpfs volumes are not supported yet"},
    {"type", S, ""},
    {"volume", N, "named volumes are not supported yet"},
};

constexpr ComposeKey kVolumeBindKeys[] = {
    {"create_host_path", I, "a missing host directory is an error when the VM starts"},
    {"propagation", I, "virtio-fs shares have no mount propagation"},
    {"recursive", I, "virtio-fs shares the whole tree"},
    {"selinux", I, "SELinux relabelling is a container engine's"},
};

constexpr ComposeKey kDependencyKeys[] = {
    {"condition", S, ""},
    {"required", S, ""},
    {"restart", S, ""},
};

constexpr ComposeKey kEnvFileKeys[] = {
    {"format", I, "env files are read in the dotenv format"},
    {"path", S, ""},
    {"required", S, ""},
};

constexpr ComposeKey kVirtkitKeys[] = {
    {"autostart", S, ""},
    {"control", S, ""},
    {"dev", S, ""},
    {"vm-symlinks", S, ""},
};

std::span<const ComposeKey> Keys(KeyScope scope) {
  switch (scope) {
    case KeyScope::kTopLevel: return kTopLevelKeys;
    case KeyScope::kService: return kServiceKeys;
    case KeyScope::kDeploy: return kDeployKeys;
    case KeyScope::kResources: return kResourceKeys;
    case KeyScope::kLimits: return kLimitKeys;
    case KeyScope::kBuild: return kBuildKeys;
    case KeyScope::kHealthcheck: return kHealthcheckKeys;
    case KeyScope::kPort: return kPortKeys;
    case KeyScope::kVolume: return kVolumeKeys;
    case KeyScope::kVolumeBind: return kVolumeBindKeys;
    case KeyScope::kDependency: return kDependencyKeys;
    case KeyScope::kEnvFile: return kEnvFileKeys;
    case KeyScope::kVirtkit: return kVirtkitKeys;
  }
  return {};
}

}  // namespace

const ComposeKey* FindComposeKey(KeyScope scope, std::string_view name) {
  for (const ComposeKey& key : Keys(scope)) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

std::vector<std::string> ComposeKeyNames(KeyScope scope) {
  std::vector<std::string> names;
  for (const ComposeKey& key : Keys(scope)) names.emplace_back(key.name);
  return names;
}

}  // namespace vk::fleet
