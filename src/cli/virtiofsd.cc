// `vk virtiofsd --socket-path SOCK --shared-dir DIR [--readonly] [--tag T]
// [--thread-pool-size N] [--log-level L]`: a vhost-user-fs back end
// (virtio/vhost_user/) serving the same passthrough FUSE engine as the
// built-in virtio-fs device (virtio/fs/passthrough.h: containment, read-only
// and ownership rules), for a VMM such as QEMU:
//
//   qemu-system-x86_64 ... -object memory-backend-memfd,id=mem,size=512M,share=on
//     -numa node,memdev=mem -chardev socket,id=fs0,path=SOCK
//     -device vhost-user-fs-device,chardev=fs0,tag=T
//
// Options follow the Rust virtiofsd's where they overlap (docs/backends.md).
// It runs as the invoking user and keeps serving after the front end
// disconnects, so a restarted VMM reconnects.
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>

#include "base/log.h"
#include "base/stop_signals.h"
#include "cli/command.h"
#include "virtio/fs/fs_device.h"
#include "virtio/vhost_user/backend.h"
#include "virtio/vhost_user/server.h"

namespace vk::cli {
namespace {

struct VirtiofsdArgs {
  std::string socket_path;
  std::string shared_dir;
  bool read_only = false;
  std::string tag;
  unsigned thread_pool_size = 0;
  std::string log_level = "info";
  std::string sandbox = "none";
  std::string cache = "auto";
  bool print_capabilities = false;
};

// The Rust virtiofsd's level names; ours has no separate trace level.
Result<log::Level> LevelNamed(const std::string& name) {
  if (name == "trace" || name == "debug") return log::Level::kDebug;
  if (name == "info") return log::Level::kInfo;
  if (name == "warn") return log::Level::kWarn;
  if (name == "error" || name == "off") return log::Level::kError;
  return Error(ErrorKind::kUsage,
               "--log-level " + name + ": use trace, debug, info, warn, error or off");
}

Result<void> CheckArgs(const VirtiofsdArgs& a) {
  if (a.socket_path.empty()) return Error(ErrorKind::kUsage, "--socket-path is required");
  if (a.shared_dir.empty()) return Error(ErrorKind::kUsage, "--shared-dir is required");
  struct stat info {};
  if (::stat(a.shared_dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode))
    return Error(ErrorKind::kUsage, "--shared-dir " + a.shared_dir + " is not a directory");
  // The server's containment does not rest on a mount namespace or chroot
  // (passthrough.h), so the Rust virtiofsd's sandboxes are not needed.
  if (a.sandbox != "none")
    return Error(ErrorKind::kUsage, "--sandbox " + a.sandbox +
                                        ": only `none` is supported (containment is done per "
                                        "request, docs/backends.md)");
  if (a.cache != "auto" && a.cache != "always" && a.cache != "never" && a.cache != "metadata")
    return Error(ErrorKind::kUsage, "--cache " + a.cache + ": use auto, always, never or metadata");
  return Ok();
}

Result<void> Serve(const VirtiofsdArgs& a) {
  VK_TRY(CheckArgs(a));
  log::SetLevel(VK_TRY(LevelNamed(a.log_level)));
  ::signal(SIGPIPE, SIG_IGN);
  virtio::FsOptions fs;
  fs.shared_dir = a.shared_dir;
  // Without --tag the config space is not offered (below), so the device's
  // own tag is never seen; it just has to be a valid one.
  fs.tag = a.tag.empty() ? "virtiofs" : a.tag;
  fs.read_only = a.read_only;
  auto loop = VK_TRY(EventLoop::Create());
  virtio::vhost_user::VhostUserBackend backend(
      VK_TRY_CTX(virtio::CreateFsDevice(fs), "--shared-dir " + a.shared_dir), loop.get());
  if (a.tag.empty()) backend.WithoutConfig();  // as the Rust virtiofsd: CONFIG only with --tag
  auto server =
      VK_TRY(virtio::vhost_user::VhostUserServer::Listen(a.socket_path, &backend, loop.get()));
  UniqueFd signals = VK_TRY(StopSignalFd());
  VK_TRY(loop->Add(signals.get(), EPOLLIN, [&](uint32_t) { loop->Stop(); }));
  log::Info("vk virtiofsd: serving {}{} on {}", a.shared_dir, a.read_only ? " (read-only)" : "",
            a.socket_path);
  return loop->Run();  // ~VhostUserServer removes the socket
}

Runner Setup(CLI::App& app) {
  static VirtiofsdArgs a;
  app.add_option("--socket-path", a.socket_path, "vhost-user socket to listen on");
  app.add_option("--shared-dir", a.shared_dir, "Host directory to share");
  app.add_flag("--readonly", a.read_only, "Refuse every write to the share");
  app.add_option("--tag", a.tag, "Tag the device reports in its config space");
  app.add_option("--thread-pool-size", a.thread_pool_size,
                 "Accepted for compatibility; requests are served on one thread");
  app.add_option("--log-level", a.log_level, "trace, debug, info (default), warn, error, off");
  app.add_option("--sandbox", a.sandbox, "Only `none` (containment is per request)");
  app.add_option("--cache", a.cache, "Accepted for compatibility (auto, always, never, metadata)");
  app.add_flag("--print-capabilities", a.print_capabilities,
               "Print the vhost-user backend capabilities (JSON) and exit");
  return [] {
    if (a.print_capabilities) {
      // vhost-user.rst, "Backend program conventions".
      std::printf("{\n  \"type\": \"fs\"\n}\n");
      return 0;
    }
    auto served = Serve(a);
    return served.ok() ? 0 : Fail("virtiofsd", served.error());
  };
}

Command kVirtiofsd("virtiofsd", "Serve a host directory to a VMM as a vhost-user-fs device",
                   &Setup);

}  // namespace
}  // namespace vk::cli
