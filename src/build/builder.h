// `vk build`: a Dockerfile and its context in, an OCI image in the store
// out (layers, config with history, manifest, tags and a ready ext4 base),
// every instruction cached (build_cache.h). COPY/ADD and the config
// instructions run on the host; each RUN in a microVM (run_step.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "build/build_progress.h"
#include "build/build_secrets.h"
#include "build/variables.h"
#include "image/store.h"

namespace vk::build {

struct BuildRequest {
  std::string context_dir;
  std::string dockerfile;         // empty: CONTEXT/Dockerfile
  std::vector<std::string> tags;  // image names ("app:1"); none: the image is only cached
  std::string target;             // --target STAGE; empty: the last stage
  VariableMap build_args;         // --build-arg K=V
  SecretMap secrets;              // --secret id=ID,src=PATH|env=VAR
  bool no_cache = false;          // run every step (results still go into the cache)
  bool network = false;           // RUN steps get the VM's own LAN (--net)
  std::string store_root;         // empty: $VIRTKIT_HOME
  uint64_t run_memory_bytes = 512ull << 20;
  bool cold = false;  // RUN VMs boot the kernel instead of a warm template
  size_t jobs = 1;    // stages built at once (--jobs); 1: one after another
};

struct BuildOutcome {
  std::string manifest_digest;
  std::string config_digest;
  std::vector<std::string> names;  // the tags as stored
  std::string base_path;           // the image's ext4 base (tagged builds)
  size_t steps = 0;
  size_t cached = 0;
  size_t vms_booted = 0;
  // A RUN exited non-zero: its exit code (the build stopped there).
  std::optional<int> failed_exit_code;
};

// `outcome` is filled as far as the build got, also when it fails (a failed
// RUN's exit code).
Result<void> BuildImage(const BuildRequest& request, BuildProgress& progress,
                        BuildOutcome& outcome);

}  // namespace vk::build
