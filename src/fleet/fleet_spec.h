// FleetSpec: the resolved definition of a fleet (a dev VM and service VMs on
// one LAN), whichever way it was written: a compose file (compose_file.h) or
// `vk fleet` flags (fleet_flags.h). Everything here is already interpolated,
// defaulted and validated (fleet_validate.h), so the orchestrator reads
// values and never re-parses text.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vk::fleet {

// compose `build:`: the image is built from a Dockerfile (src/build).
struct BuildSpec {
  std::string context;     // absolute host directory
  std::string dockerfile;  // relative to context, as compose keeps it ("Dockerfile")
  std::map<std::string, std::string> args;
  std::string target;  // empty: the last stage
  bool operator==(const BuildSpec&) const = default;
};

// One `ports:` entry. Ranges keep both ends; a single port has first == last.
struct PortMapping {
  uint16_t target_first = 0;
  uint16_t target_last = 0;
  // 0: no host port given, one is picked when the fleet starts (docker's
  // "3000" short form). Otherwise a range of the same length as the target's.
  uint16_t published_first = 0;
  uint16_t published_last = 0;
  std::string host_ip;           // empty: every host address
  std::string protocol = "tcp";  // tcp or udp
  bool operator==(const PortMapping&) const = default;
};

// A host directory shared into the guest (virtio-fs).
struct BindMount {
  std::string source;  // absolute host path
  std::string target;  // absolute guest path
  bool read_only = false;
  bool operator==(const BindMount&) const = default;
};

enum class DependCondition { kStarted, kHealthy, kCompletedSuccessfully };

struct Dependency {
  std::string service;
  DependCondition condition = DependCondition::kStarted;
  // false: a dependency that is missing or disabled by profiles is skipped.
  bool required = true;
  // compose `restart: true`: restart this service when the dependency restarts.
  bool restart = false;
  // "FILE:LINE" where it is written, for errors; empty: not from a file.
  std::string where;
  bool operator==(const Dependency&) const = default;
};

enum class HealthTestKind { kCmd, kCmdShell, kNone };

// What the compose file says. Zero timings and retries are unset: the
// image's HEALTHCHECK gives them, else docker's defaults below
// (fleet/image_healthcheck.h). A test of kind kNone disables the image's
// check; kCmd with an empty test keeps the image's test with these timings.
struct Healthcheck {
  HealthTestKind kind = HealthTestKind::kCmd;
  std::vector<std::string> test;  // argv (kCmd) or one shell command (kCmdShell)
  std::chrono::nanoseconds interval{0};
  std::chrono::nanoseconds timeout{0};
  std::chrono::nanoseconds start_period{0};
  std::chrono::nanoseconds start_interval{0};
  int retries = 0;
  bool operator==(const Healthcheck&) const = default;
};

// docker's defaults for a health check timing neither the file nor the
// image sets.
inline constexpr std::chrono::nanoseconds kDefaultHealthInterval = std::chrono::seconds(30);
inline constexpr std::chrono::nanoseconds kDefaultHealthTimeout = std::chrono::seconds(30);
inline constexpr std::chrono::nanoseconds kDefaultHealthStartInterval = std::chrono::seconds(5);
inline constexpr int kDefaultHealthRetries = 3;

enum class RestartMode { kNo, kOnFailure, kAlways, kUnlessStopped };

struct RestartPolicy {
  RestartMode mode = RestartMode::kNo;
  int max_retries = 0;  // on-failure:N; 0 = unlimited
  bool operator==(const RestartPolicy&) const = default;
};

// x-virtkit `vm-symlinks: [HOST:GUEST]`: a host file (typically vk-agent)
// exposed in the guest under another name (typically virtctl).
struct VmSymlink {
  std::string host;
  std::string guest;
  bool operator==(const VmSymlink&) const = default;
};

struct ServiceSpec {
  std::string name;
  std::string image;               // empty only when `build` is set
  std::optional<BuildSpec> build;  // set: build, then run the result (tagged `image` if given)
  // nullopt: the image's own; an empty list clears it (compose `entrypoint: ""`).
  std::optional<std::vector<std::string>> command;
  std::optional<std::vector<std::string>> entrypoint;
  // env_file entries first, then `environment` over them; variables named
  // without a value and unset in vk's environment are left out (as compose).
  std::map<std::string, std::string> environment;
  std::vector<std::string> env_files;  // absolute paths, for the record
  std::vector<PortMapping> ports;
  std::vector<BindMount> volumes;
  std::string working_dir;
  std::string user;
  std::string hostname;  // empty: the service name
  std::vector<Dependency> depends_on;
  std::optional<Healthcheck> healthcheck;  // nullopt: the image's
  RestartPolicy restart;
  double cpus = 0;            // 0: the default machine size
  uint64_t memory_bytes = 0;  // 0: the default machine size
  std::vector<std::string> profiles;
  // x-virtkit
  bool dev = false;       // the developer's VM: attached by `up`, may use virtctl
  bool autostart = true;  // false: only started on request (virtctl start, fleet start)
  bool control = false;   // may start/stop units with virtctl (the dev VM always may)
  std::vector<VmSymlink> vm_symlinks;
  // "FILE:LINE" where the service is defined, for errors; empty: not from a file.
  std::string where;
  bool operator==(const ServiceSpec&) const = default;
};

struct FleetSpec {
  std::string name;                          // compose project name rules (fleet_name.h)
  std::string source;                        // the compose file(s), or "command line"
  std::string project_dir;                   // relative paths were resolved against it
  std::map<std::string, std::string> hosts;  // --hosts NAME=IP: fixed LAN names
  std::vector<ServiceSpec> services;         // sorted by name
  // "ignored: privileged (...)", once per key: shown to the user, never fatal.
  std::vector<std::string> warnings;

  const ServiceSpec* Find(std::string_view service) const;
  const ServiceSpec* DevService() const;  // nullptr: no dev VM
};

}  // namespace vk::fleet
