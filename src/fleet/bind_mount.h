// compose `volumes:` entries that VMs can have: bind mounts of host
// directories, served over virtio-fs. Short syntax HOST:GUEST[:OPTIONS]
// where OPTIONS are comma-separated: ro, rw, and docker's SELinux (z, Z),
// consistency (cached, delegated, consistent) and propagation options, which
// mean nothing to virtio-fs and are accepted without effect.
// Named and anonymous volumes are reported as not supported yet.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "fleet/fleet_spec.h"

namespace vk::fleet {

// A relative or ~ host path is resolved against `project_dir` / $HOME.
Result<BindMount> ParseBindMount(std::string_view text, const std::string& project_dir);

// Host paths as compose resolves them: "~" and "~/x" from $HOME, relative
// paths against `base`, then lexically normalised.
std::string ResolveHostPath(std::string_view path, const std::string& base);

// A named or anonymous volume, by what the source looks like: compose reads
// a source that starts with '/', '.' or '~' as a path, anything else as a name.
bool IsHostPath(std::string_view source);

// The error for a named (or anonymous, when `name` is empty) volume.
Error VolumeNotSupported(std::string_view name);

}  // namespace vk::fleet
