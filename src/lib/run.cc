// Run(), Attach(), List(): the library's entry points.
#include "base/private_dir.h"
#include "base/remove_tree.h"
#include "lib/base_reader.h"
#include "lib/errors.h"
#include "lib/options_validation.h"
#include "lib/preflight.h"
#include "lib/run_spec_json.h"
#include "lib/staging.h"
#include "lib/supervisor.h"
#include "lib/vm_state.h"

namespace virtkit {
namespace {

// Beyond boot_timeout, what the supervisor may take (pull, base conversion,
// the first VM of a shape making its warm template: up to 15 minutes on a
// loaded PVM host) before the library gives up on it.
constexpr auto kSupervisorSlack = std::chrono::minutes(30);

Result<std::string> DataDirOf(const Options& options) {
  if (!options.data_dir.empty()) return options.data_dir;
  auto dir = vk::DataDirectory();
  if (!dir.ok()) return internal::FromVk(dir.error());
  return *dir;
}

// Where the VMs of a program with this data dir live (its supervisors run
// with VIRTKIT_HOME=data_dir).
Result<std::string> VmsRoot(std::string_view data_dir) {
  Options options;
  options.data_dir = std::string(data_dir);
  auto dir = DataDirOf(options);
  if (!dir) return dir.error();
  return vk::VmDir::RootFor(*dir);
}

Result<void> CleanDataDir(const Options& options) {
  if (!options.clean_data_dir) return Ok();
  if (options.data_dir.empty()) {
    return Error(ErrorKind::kUsage, "clean_data_dir needs an explicit data_dir");
  }
  std::string dir = options.data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  size_t slash = dir.rfind('/');
  if (slash == std::string::npos || slash == 0) {
    return Error(ErrorKind::kUsage, "clean_data_dir: give data_dir as an absolute path below /");
  }
  auto removed = vk::RemoveTreeWithin(dir.substr(0, slash), dir);
  if (!removed.ok()) return internal::FromVk(removed.error()).Context("clean data dir");
  return Ok();
}

Result<void> RunRootfsHooks(const Options& options, Rootfs& root) {
  for (size_t i = 0; i < options.rootfs_hooks.size(); ++i) {
    if (!options.rootfs_hooks[i]) continue;
    if (auto done = options.rootfs_hooks[i](root); !done) {
      return Error(ErrorKind::kHook, done.error().message())
          .Context("rootfs hook " + std::to_string(i + 1));
    }
  }
  return Ok();
}

Result<void> RunPostBootHooks(const Options& options, Vm& vm) {
  for (size_t i = 0; i < options.post_boot_hooks.size(); ++i) {
    if (!options.post_boot_hooks[i]) continue;
    if (auto done = options.post_boot_hooks[i](vm); !done) {
      return Error(ErrorKind::kHook, done.error().message())
          .Context("post-boot hook " + std::to_string(i + 1));
    }
  }
  return Ok();
}

// Rootfs hooks on a staging dir, then the supervisor; the staging dir goes
// once the supervisor has built the VM's layer from it.
Result<internal::SupervisorReply> StartVm(std::string_view image, const Options& options,
                                          const std::string& name, const std::string& data_dir,
                                          const std::string& program) {
  std::optional<internal::StagingDir> staging;
  std::optional<Rootfs> root;
  if (!options.rootfs_hooks.empty()) {
    auto made = internal::StagingDir::Create(data_dir, name);
    if (!made) return made.error();
    staging.emplace(std::move(*made));
    const std::string& images =
        options.image_cache_dir.empty() ? data_dir : options.image_cache_dir;
    root.emplace(staging->path(),
                 internal::MakeBaseReader(std::string(image), options.rootfs_path, images));
    if (auto hooks = RunRootfsHooks(options, *root); !hooks) return hooks.error();
  }
  auto spec = internal::EncodeRunSpec(image, options, name, root ? &*root : nullptr);
  if (!spec) return spec.error();
  internal::SuperviseOptions supervise;
  supervise.program = program;
  supervise.data_dir = data_dir;
  supervise.log_level = options.log_level;
  supervise.deadline = options.boot_timeout + kSupervisorSlack;
  supervise.on_stderr = options.on_warning;
  return internal::Supervise(*spec, supervise);
}

Result<std::unique_ptr<Vm::State>> RunChecked(std::string_view image, const Options& options) {
  if (auto valid = internal::ValidateOptions(image, options); !valid) return valid.error();
  auto data_dir = DataDirOf(options);
  if (!data_dir) return data_dir.error();
  auto checks = internal::ChecksFor(options, *data_dir);
  if (auto passed = internal::RunPreflight(checks, options.on_warning); !passed) {
    return passed.error();
  }
  if (auto cleaned = CleanDataDir(options); !cleaned) return cleaned.error();
  auto program = internal::FindVkProgram(options.vk_program);
  if (!program) return program.error();
  const std::string name = options.name.empty() ? internal::GenerateName() : options.name;
  auto reply = StartVm(image, options, name, *data_dir, *program);
  if (!reply) return reply.error();
  auto state = std::make_unique<Vm::State>();
  state->name = reply->name;
  state->dir = reply->dir;
  state->image = options.rootfs_path.empty() ? std::string(image) : options.rootfs_path;
  state->vms_root = vk::VmDir::RootFor(*data_dir);
  state->ports = options.ports;
  state->env = options.env;
  state->owned = !options.detach;
  if (auto vm = vk::NamedVm::Find(reply->name, state->vms_root); vm.ok()) {
    state->id = internal::VmId(vm->record());
    state->env = vm->record().env;
  } else {
    state->id = std::to_string(reply->pid);
  }
  return state;
}

}  // namespace

Result<Vm> Run(std::string_view image, Options options) {
  const std::string what =
      "run " + (options.rootfs_path.empty() ? std::string(image) : options.rootfs_path);
  auto state = RunChecked(image, options);
  if (!state) return state.error().Context(what);
  Vm vm(std::move(*state));
  if (auto hooks = RunPostBootHooks(options, vm); !hooks) {
    (void)vm.Remove();  // a Run() that failed leaves no VM behind, detached or not
    return hooks.error().Context(what);
  }
  return vm;
}

Result<Vm> Attach(std::string_view name, std::string_view data_dir) {
  const std::string what = "attach " + std::string(name);
  auto root = VmsRoot(data_dir);
  if (!root) return root.error().Context(what);
  auto found = vk::NamedVm::Find(std::string(name), *root);
  if (!found.ok()) return internal::FromVk(found.error()).Context(what);
  auto state = std::make_unique<Vm::State>();
  state->name = found->name();
  state->dir = found->dir().path();
  state->vms_root = *root;
  state->id = internal::VmId(found->record());
  state->ports = internal::PortsOf(found->record());
  state->env = found->record().env;
  return Vm(std::move(state));
}

Result<std::vector<VmStatus>> List(std::string_view data_dir) {
  auto root = VmsRoot(data_dir);
  if (!root) return root.error().Context("list VMs");
  std::vector<VmStatus> list;
  for (const vk::NamedVm& vm : vk::NamedVm::List(*root)) list.push_back(internal::StatusOf(vm));
  return list;
}

std::string_view Version() { return VIRTKIT_VERSION; }

}  // namespace virtkit
