#include "runtime/run_spec.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/names.h"
#include "base/strings.h"
#include "base/terminal.h"
#include "image/build.h"
#include "image/dir_base.h"
#include "image/scratch_template.h"
#include "runtime/detach.h"
#include "runtime/machine_size.h"
#include "runtime/mount_spec.h"

namespace vk {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kScratchBytes = 64ull << 30;  // sparse: costs only what the guest writes
constexpr const char* kShellProbe =
    "if [ -x /bin/bash ]; then exec /bin/bash -l; else exec /bin/sh -l; fi";

// An error's own kind when it has one, else `kind`.
Error Classified(Error error, ErrorKind kind) {
  if (error.kind() != ErrorKind::kInternal) return error;
  return std::move(error).WithKind(kind);
}

template <typename T>
Result<T> Classify(Result<T> result, ErrorKind kind) {
  if (result.ok()) return result;
  return Classified(std::move(result).error(), kind);
}

Result<std::string> SharedDirectory(const std::string& path, const std::string& what) {
  std::error_code error;
  fs::path real = fs::canonical(path, error);
  if (error) return Error(ErrorKind::kNotFound, what + " " + path + ": " + error.message());
  if (!fs::is_directory(real))
    return Error(ErrorKind::kUsage, what + " " + path + ": only directories can be shared");
  return real.string();
}

Result<SharedDir> CheckShare(const SharedDir& share) {
  VK_TRY(CheckGuestMountPath(share.guest_path, "share " + share.host_path + ":"));
  return SharedDir{VK_TRY(SharedDirectory(share.host_path, "share")), share.guest_path,
                   share.read_only};
}

// What the checks that need no image find wrong: before a pull, so a typo
// never costs a download.
Result<void> CheckSpec(const RunSpec& spec) {
  if (spec.image.empty() == spec.rootfs_path.empty())
    return Error(ErrorKind::kUsage, "give an image or a rootfs path (exactly one)");
  if (!spec.name.empty()) VK_TRY(Classify(CheckName(spec.name, NameKind::kVm), ErrorKind::kUsage));
  if (!spec.hostname.empty())
    VK_TRY_CTX(Classify(CheckHostname(spec.hostname), ErrorKind::kUsage), "--hostname");
  if (!spec.workdir.empty() && spec.workdir[0] != '/')
    return Error(ErrorKind::kUsage, "the working directory must be an absolute guest path");
  if (!spec.layer_dir.empty()) VK_TRY(SharedDirectory(spec.layer_dir, "layer directory"));
  if (!spec.layer_owners.empty() && spec.layer_dir.empty())
    return Error(ErrorKind::kUsage, "layer owners need a layer directory");
  if (!spec.image_store.empty() && spec.image_store[0] != '/')
    return Error(ErrorKind::kUsage, "the image store must be an absolute path");
  for (const std::string& kv : spec.env)
    if (kv.find('=') == std::string::npos || kv[0] == '=')
      return Error(ErrorKind::kUsage, "environment entry \"" + kv + "\" is not K=V");
  return Ok();
}

struct Base {
  std::string disk;
  std::string display_name;
  image::ImageConfig config;  // empty for a rootfs
};

Result<image::Store> OpenImageStore(const RunSpec& spec) {
  std::string root =
      spec.image_store.empty() ? VK_TRY(image::Store::DefaultRoot()) : spec.image_store;
  return image::Store::Open(root);
}

Result<Base> ImageBase(const RunSpec& spec) {
  VK_TRY(Classify(image::ParseImageSource(spec.image), ErrorKind::kUsage));
  image::Store store = VK_TRY(OpenImageStore(spec));
  image::PullOptions pull;
  pull.platform =
      VK_TRY_CTX(Classify(image::ParsePlatform(spec.platform), ErrorKind::kUsage), "--platform");
  pull.insecure = spec.insecure;
  image::ImageRecord record =
      VK_TRY(Classify(image::ResolveImage(store, spec.image, spec.pull, pull), ErrorKind::kImage));
  Base base;
  base.config = VK_TRY(Classify(image::ReadImageConfig(store, record), ErrorKind::kImage));
  base.disk = VK_TRY(Classify(image::EnsureBase(store, record), ErrorKind::kImage));
  base.display_name = spec.image;
  return base;
}

// A directory becomes a cached ext4 base; an ext4 image is the base itself.
Result<Base> RootfsBase(const RunSpec& spec) {
  std::error_code error;
  fs::path real = fs::canonical(spec.rootfs_path, error);
  if (error)
    return Error(ErrorKind::kNotFound, "rootfs " + spec.rootfs_path + ": " + error.message());
  Base base;
  base.display_name = real.string();
  if (fs::is_directory(real)) {
    image::Store store = VK_TRY(OpenImageStore(spec));
    base.disk =
        VK_TRY(Classify(image::EnsureDirectoryBase(store, real.string()), ErrorKind::kImage));
  } else {
    base.disk = real.string();  // Launch checks it is an ext4 image (kDisk)
  }
  return base;
}

using ScratchFn = std::function<Result<std::string>(const VmDir&)>;

Result<ScratchFn> ScratchMaker(const RunSpec& spec) {
  std::string data = VK_TRY(image::Store::DefaultRoot());
  std::string keep_dir;
  if (spec.keep_scratch) {
    keep_dir = data + "/scratch";
    std::error_code error;
    fs::create_directories(keep_dir, error);
    if (error) return Error(ErrorKind::kDisk, "create " + keep_dir + ": " + error.message());
  }
  std::string templates = data + "/templates";
  std::string layer = spec.layer_dir;
  std::vector<image::LayerOwner> owners = spec.layer_owners;
  return ScratchFn(
      [keep_dir, templates, layer, owners](const VmDir& run_dir) -> Result<std::string> {
        std::string path = keep_dir.empty()
                               ? run_dir.ScratchDisk()
                               : keep_dir + "/" + fs::path(run_dir.path()).filename().string() +
                                     "-" + std::to_string(::getpid()) + ".ext4";
        if (layer.empty()) {
          VK_TRY_CTX(image::CreateScratchDiskFromTemplate(templates, path, kScratchBytes),
                     "scratch disk");
        } else {
          VK_TRY_CTX(image::CreateScratchDiskWithUpper(layer, path, kScratchBytes, owners),
                     "scratch disk with the layer " + layer);
        }
        if (!keep_dir.empty())
          std::fprintf(stderr, "vk: keeping the scratch disk %s\n", path.c_str());
        return path;
      });
}

std::vector<std::string> GuestArgv(const RunSpec& spec, const image::ImageConfig& config) {
  if (spec.shell) return {"/bin/sh", "-c", kShellProbe};
  std::vector<std::string> argv =
      spec.entrypoint.empty() ? config.entrypoint : std::vector<std::string>{spec.entrypoint};
  // docker: --entrypoint resets the image's Cmd too.
  const std::vector<std::string>& cmd =
      !spec.command.empty() ? spec.command
                            : (spec.entrypoint.empty() ? config.cmd : std::vector<std::string>{});
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  return argv;
}

void SetTerminal(const RunSpec& spec, LaunchOptions& o) {
  if (spec.tty || spec.shell) {
    auto size = TerminalSize(STDIN_FILENO).value_or(std::make_pair<uint16_t, uint16_t>(24, 80));
    const char* term = std::getenv("TERM");
    o.tty = proto::TtyConfig{term ? term : "xterm", size.first, size.second};
  }
  // As docker, stdin reaches the command with -i; a pipe is passed on too, so
  // `echo hi | vk run IMG -- cat` does what it says.
  o.stdin_open = spec.interactive || spec.shell || !::isatty(STDIN_FILENO);
}

// The VM's shape and lifetime, straight from the spec.
Result<void> SetMachine(const RunSpec& spec, LaunchOptions& o) {
  o.cpus = VK_TRY(ResolveCpus(spec.cpus));
  o.memory_bytes = VK_TRY(CheckMemory(spec.memory_bytes));
  o.name = spec.name;
  if (spec.detach && o.name.empty()) o.name = GeneratedVmName();
  // --rm (the default in the foreground): a named VM leaves no state behind.
  // Launch removes only a state directory it created itself.
  o.remove_state_on_exit = !spec.detach && spec.remove_on_exit;
  o.hostname = spec.hostname;
  o.detach = spec.detach;
  o.write_etc = true;
  o.network = spec.network;
  o.firewall_rules = spec.firewall_rules;
  o.timeout = spec.timeout;
  o.boot_timeout = spec.boot_timeout;
  o.cold = spec.cold;
  o.vmm = spec.vmm;
  return Ok();
}

}  // namespace

Result<std::vector<std::string>> ReadEnvFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::FromErrno("--env-file " + path).WithKind(ErrorKind::kNotFound);
  std::vector<std::string> env;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    if (line.find('=') != std::string::npos) {
      env.push_back(line);
    } else if (const char* value = std::getenv(line.c_str())) {
      env.push_back(line + "=" + value);
    }
  }
  return env;
}

Result<SharedDir> ParseShare(std::string_view text) {
  std::vector<std::string> parts = Split(text, ':');
  bool ro = parts.size() == 3 && parts[2] == "ro";
  bool rw = parts.size() == 3 && parts[2] == "rw";
  if (parts.size() != 2 && !ro && !rw)
    return Error(ErrorKind::kUsage, "-v " + std::string(text) + ": use HOST:GUEST[:ro]");
  return SharedDir{parts[0], parts[1], ro};
}

Result<LaunchOptions> PrepareRun(const RunSpec& spec) {
  VK_TRY(CheckSpec(spec));
  LaunchOptions o;
  VK_TRY(SetMachine(spec, o));
  for (const SharedDir& share : spec.shares) o.shares.push_back(VK_TRY(CheckShare(share)));
  o.tmpfs = spec.tmpfs;
  o.binds = spec.binds;
  VK_TRY(CheckGuestMounts(o));
  Base base = VK_TRY(spec.rootfs_path.empty() ? ImageBase(spec) : RootfsBase(spec));
  o.disk = base.disk;
  o.read_only = true;
  o.display_name = base.display_name;
  o.make_scratch_disk = VK_TRY(ScratchMaker(spec));
  o.env = base.config.env;
  o.env.insert(o.env.end(), spec.env.begin(), spec.env.end());
  o.workdir = spec.workdir.empty() ? base.config.working_dir : spec.workdir;
  o.user = spec.user.empty() ? base.config.user : spec.user;
  o.command = GuestArgv(spec, base.config);
  // A detached VM without a command idles, serving exec (`vk exec`, the
  // library's Exec()); in the foreground there would be nothing to run.
  if (o.command.empty() && !spec.detach) {
    const std::string what =
        spec.image.empty() ? "the rootfs " + spec.rootfs_path : "the image " + spec.image;
    return Error(ErrorKind::kUsage, what + " names no command: give one after --, or use --shell");
  }
  SetTerminal(spec, o);
  return o;
}

Result<int> Run(const RunSpec& spec) { return Launch(VK_TRY(PrepareRun(spec))); }

}  // namespace vk
