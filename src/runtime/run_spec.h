// RunSpec: everything one VM run needs, as `vk run`, `vk supervise` and the
// library (through `vk supervise`) describe it, with no CLI types. Run() is
// what `vk run` does: resolve (and pull) the image or take a local rootfs,
// make the VM's writable layer, turn the image config and overrides into
// the guest command, and launch (runtime/launch.h).
//
// Its JSON form (EncodeRunSpec/DecodeRunSpec, "version": 1) is the wire
// format of `vk supervise` (docs/protocol.md, "vk supervise").
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "image/build.h"
#include "image/pull.h"
#include "runtime/launch.h"
#include "runtime/vm_network.h"

namespace vk {

struct RunSpec {
  std::string name;         // empty: unnamed (foreground) or generated (detach)
  std::string image;        // a reference as `vk run` takes it ("alpine:3.20", "oci:DIR")
  std::string rootfs_path;  // instead of image: a directory or an ext4 image
  // A host directory whose tree is copied into the VM's writable layer (the
  // overlay's upper directory) before boot; the shared base is untouched.
  std::string layer_dir;
  // Guest owners of entries in layer_dir (entries of the calling user not
  // listed are root's): a non-root caller cannot chown its staged files.
  std::vector<image::LayerOwner> layer_owners;
  // The image store's root (images, blobs, bases); empty: the data directory.
  std::string image_store;
  unsigned cpus = 1;  // 0: every host CPU
  uint64_t memory_bytes = 1ull << 30;
  std::vector<std::string> command;  // replaces Entrypoint + Cmd (docker's CMD after the image)
  std::string entrypoint;            // replaces Entrypoint (and resets the image's Cmd)
  bool shell = false;                // a login shell on a terminal (vk run --shell)
  std::vector<std::string> env;      // K=V, after the image's
  std::string user;                  // empty: the image's
  std::string workdir;               // in the guest; empty: the image's
  std::vector<SharedDir> shares;
  std::vector<GuestTmpfs> tmpfs;  // --tmpfs PATH[:size=...,mode=...]
  std::vector<GuestBind> binds;   // guest-side binds (the builder's secrets)
  std::string hostname;
  NetworkOptions network;      // firewall_file: a rules file on the host
  std::string firewall_rules;  // or the rules as text (kept in the VM's state dir)
  bool cold = false;
  VmmKind vmm = VmmKind::kVirtkit;  // --vmm qemu: QEMU runs the VM (docs/backends.md)
  std::chrono::seconds boot_timeout{180};
  std::optional<std::chrono::seconds> timeout;
  bool detach = false;
  bool remove_on_exit = true;  // foreground: remove a named VM's state when it ends
  bool keep_scratch = false;   // keep the scratch disk (the VM's writes) after it ends
  image::PullPolicy pull = image::PullPolicy::kMissing;
  std::string platform = "linux/amd64";
  bool insecure = false;     // plain HTTP to the registry
  bool tty = false;          // the command on a terminal
  bool interactive = false;  // stdin reaches the command (also when stdin is not a TTY)
};

// The launch a spec makes: checked (kUsage), image resolved or pulled with
// progress on a terminal (kImage; kNotFound for an image missing with
// --pull=never), the base built (kImage, kDisk for an unusable rootfs).
// A detached spec without a name gets one here, so the caller knows it.
Result<LaunchOptions> PrepareRun(const RunSpec& spec);

// PrepareRun, then Launch: the command's exit code, or 0 once a detached VM
// answers.
Result<int> Run(const RunSpec& spec);

// docker's --env-file: K=V lines, '#' comments, a bare K takes the host's value.
Result<std::vector<std::string>> ReadEnvFile(const std::string& path);
// -v HOST:GUEST[:ro|:rw] (the host directory is checked by PrepareRun).
Result<SharedDir> ParseShare(std::string_view text);

// JSON, versioned ({"version": 1, ...}); every field but version is optional
// (defaults as above). Decoding refuses unknown fields by name, wrong types
// and oversized values (kUsage) and never throws.
inline constexpr size_t kMaxRunSpecBytes = 1 << 20;
std::string EncodeRunSpec(const RunSpec& spec);
Result<RunSpec> DecodeRunSpec(std::string_view json);

}  // namespace vk
