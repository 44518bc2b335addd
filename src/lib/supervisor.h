// Starting a VM's supervisor: the `vk` program run as `vk supervise`, which
// reads the RunSpec JSON on stdin and answers with one JSON line once the
// guest agent answers (docs/protocol.md, "vk supervise"). The VM then lives
// in its own processes, not in the embedding program.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "virtkit/virtkit.h"

namespace virtkit::internal {

struct SupervisorReply {
  std::string name;
  std::string dir;  // the VM's state directory
  pid_t pid = 0;    // its VMM
};

// The program: `configured`, else $VIRTKIT_VK, else the vk installed beside
// this library, else `vk` on PATH. kNotFound naming what was tried.
Result<std::string> FindVkProgram(const std::string& configured);

struct SuperviseOptions {
  std::string program;
  std::string data_dir;  // VIRTKIT_HOME for the supervisor ("" inherits)
  LogLevel log_level = LogLevel::kWarning;
  // Reply deadline: the supervisor is killed when it passes.
  std::chrono::milliseconds deadline{std::chrono::minutes(6)};
  // The supervisor's stderr (progress, warnings), line by line.
  std::function<void(std::string_view)> on_stderr;
};

// Spawns `program supervise` (posix_spawn: the embedding program is never
// forked; no fd of it but the three pipes reaches the child), writes `spec`
// and returns its reply; a reported failure keeps the supervisor's kind.
Result<SupervisorReply> Supervise(const std::string& spec, const SuperviseOptions& options);

// The reply line parsed (exposed for tests).
Result<SupervisorReply> ParseSupervisorReply(std::string_view line);

}  // namespace virtkit::internal
