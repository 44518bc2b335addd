// The image config a build produces (OCI image-spec config.md): what the
// config instructions set (ENV, WORKDIR, USER, LABEL, EXPOSE, VOLUME,
// ENTRYPOINT, CMD, SHELL, STOPSIGNAL, HEALTHCHECK, ONBUILD), the layers'
// diff_ids and one history entry per instruction. A stage starts from its
// base image's config, read from untrusted JSON.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::build {

struct HistoryEntry {
  std::string created;     // RFC 3339, UTC
  std::string created_by;  // "RUN /bin/sh -c make # buildkit"
  std::string comment;
  bool empty_layer = false;  // the step added no layer
  bool operator==(const HistoryEntry&) const = default;
};

struct HealthConfig {
  std::vector<std::string> test;  // {"NONE"}, {"CMD", ...}, {"CMD-SHELL", "..."}
  int64_t interval_ns = 0, timeout_ns = 0, start_period_ns = 0, start_interval_ns = 0;
  int retries = 0;
  bool operator==(const HealthConfig&) const = default;
};

struct BuildConfig {
  std::string architecture = "amd64";
  std::string os = "linux";
  std::string created;
  std::vector<std::string> env;  // "K=V", in order
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::string working_dir;
  std::string user;
  std::map<std::string, std::string> labels;
  std::set<std::string> exposed_ports;  // "80/tcp"
  std::set<std::string> volumes;
  std::string stop_signal;
  std::vector<std::string> shell;  // empty: the default ["/bin/sh", "-c"]
  std::optional<HealthConfig> healthcheck;
  std::vector<std::string> onbuild;
  std::vector<std::string> diff_ids;
  std::vector<HistoryEntry> history;
  bool operator==(const BuildConfig&) const = default;

  // The value of `key` in env, or nullopt.
  std::optional<std::string> Env(std::string_view key) const;
  // Replaces `key`'s entry (keeping its place) or appends one.
  void SetEnv(std::string_view key, std::string_view value);
  // SHELL, or ["/bin/sh", "-c"].
  std::vector<std::string> Shell() const;
};

// PATH of a stage without one: a RUN's environment, and a FROM scratch
// image's config (as BuildKit writes it; buildah too).
inline constexpr const char* kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Bounds a hostile base config: 8 MiB, as image/manifest.h's kMaxConfigBytes.
inline constexpr size_t kMaxBuildConfigBytes = 8 << 20;

// A base image's config blob. Unknown fields are dropped; fields of the wrong
// type are errors (kImage).
Result<BuildConfig> ParseBuildConfig(std::string_view json);
// The config blob: keys in a fixed order, so one config is one digest.
std::string SerializeBuildConfig(const BuildConfig& config);

}  // namespace vk::build
