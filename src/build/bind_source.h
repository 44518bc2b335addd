// What a RUN --mount=type=bind shares into the step's VM. The selected files
// (from the context after .dockerignore, or from a stage's or an image's
// layers with from=) are laid out in a private host directory, so the guest
// sees exactly what docker's bind would show: no ignored file, nothing of the
// context beyond the source. The step's staging directory is shared into the
// guest and each source bind-mounted from there onto its target by the agent
// (vk.bind), as secrets are; so a single file can be a bind's source too.
//
// Rules:
// - Read-only mounts hard-link regular files where the host allows it (no
//   bytes copied); `rw` mounts copy them, so a RUN's writes never reach the
//   user's context or the store, and are dropped with the directory when the
//   step ends (docker discards them too).
// - The tree comes from our own index: every entry's parent must be a
//   directory this code created, so a symlink in the source is made as a
//   link and never followed while laying out the rest.
// - Devices, fifos and sockets are left out: an unprivileged process cannot
//   make device nodes, and the bind is for reading files.
#pragma once

#include <string>

#include "base/result.h"
#include "build/source_files.h"

namespace vk::build {

// Where the step's bind sources are shared in the guest, each entry
// bind-mounted from there onto its target: under /run, a tmpfs of the
// agent's, so the mount points never reach the layer. All read-only binds
// share one virtio-fs device (and rw ones another), so a RUN's template shape
// does not grow with its number of binds.
inline constexpr const char* kBindsGuestDir = "/run/.vk-binds";
inline constexpr const char* kWritableBindsGuestDir = "/run/.vk-binds-rw";

// Whose files the match's host paths are: the user's (the context: never
// changed) or bytes this build extracted from layers (ours to chmod).
enum class Sources { kUser, kOurs };

// Lays `match` out at `path` (which must not exist): its directory tree, or
// its one regular file. `copy` copies regular files instead of linking them.
Result<void> LayOutBindSource(const SourceMatch& match, const std::string& path, bool copy,
                              Sources sources);

}  // namespace vk::build
