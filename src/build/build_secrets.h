// Build secrets: `vk build --secret id=ID,src=PATH|env=VAR` (BuildKit's
// flag) and what RUN --mount=type=secret,id=ID makes of them. A secret's
// bytes never enter a layer, the cache key, the history or the config: they
// are copied into a private (0700) host directory that lives as long as the
// RUN's VM, shared read-only into the guest under /run (a tmpfs there), and
// bind-mounted from there onto each mount's target by the agent (vk.bind).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "build/dockerfile.h"
#include "runtime/launch.h"

namespace vk::build {

// Where the RUN's secrets share is mounted in the guest: under /run, which
// the agent mounts as a tmpfs, so the mount point never reaches the layer.
inline constexpr const char* kSecretsGuestDir = "/run/.vk-secrets";
// BuildKit's bound on one secret (MaxSecretSize, 500 KB): bounds what a
// build copies from a file or variable the user named.
inline constexpr uint64_t kMaxSecretBytes = 500 * 1024;

// Where one secret's bytes come from: a host file or an environment
// variable of vk build's own environment (read when a RUN needs it).
struct SecretSource {
  std::string path;
  std::string env;
  bool operator==(const SecretSource&) const = default;
};
using SecretMap = std::map<std::string, SecretSource>;  // by id

// --secret id=ID[,src=PATH|source=PATH|env=VAR][,type=file|env] as BuildKit
// (buildx) reads it; with neither src nor env, the variable ID if it is set,
// else the file ID. Errors are kUsage.
Result<std::pair<std::string, SecretSource>> ParseSecretFlag(std::string_view text);

// The secrets one RUN mounts, staged for its VM; the host copies are
// removed when this is destroyed.
class StagedSecrets {
 public:
  StagedSecrets();
  StagedSecrets(StagedSecrets&&) noexcept;
  StagedSecrets& operator=(StagedSecrets&&) noexcept;
  ~StagedSecrets();

  std::vector<SharedDir> shares;  // the staging directory at kSecretsGuestDir, or none
  std::vector<GuestBind> binds;   // each file secret onto its target
  std::vector<std::string> env;   // K=V of mounts with env=

 private:
  friend Result<StagedSecrets> StageSecrets(const std::vector<Mount>& mounts,
                                            const SecretMap& secrets);
  struct Dir;  // the host directory, removed with its files when destroyed
  std::unique_ptr<Dir> dir_;
};

// The secret mounts among `mounts` (others are ignored). A secret that is
// not given is an error for a `required` mount and skipped otherwise
// (BuildKit's rule).
Result<StagedSecrets> StageSecrets(const std::vector<Mount>& mounts, const SecretMap& secrets);

// The guest path of a secret mount's file ("" for an env-only mount):
// target=, else /run/secrets/ID.
std::string SecretTarget(const Mount& mount);

}  // namespace vk::build
