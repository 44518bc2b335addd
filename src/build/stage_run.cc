// RUN steps of a stage (stage_builder.h): the stage so far becomes the
// VM's read-only base, the command runs in the VM, the overlay's upper
// directory becomes the step's layer.
#include <sys/stat.h>

#include "base/remove_tree.h"
#include "build/build_config.h"
#include "build/run_step.h"
#include "build/stage_builder.h"
#include "build/stage_files.h"
#include "build/upper_layer.h"
#include "image/build.h"
#include "image/sha256.h"

namespace vk::build {
namespace {

// What the VM's set-up writes into the root: never part of a RUN's layer,
// as docker bind-mounts these over the container's.
const std::vector<std::string> kVmFiles = {"etc/hostname", "etc/hosts", "etc/resolv.conf"};

std::string Quoted(const std::vector<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) out += (out.empty() ? "" : " ") + a;
  return "\"" + out + "\"";
}

// The agent's own mount points (system_setup.cc, WriteEtcFiles' /etc).
const std::vector<std::string> kAgentMountPoints = {"/dev", "/etc", "/proc",
                                                    "/run", "/sys", "/tmp"};

Result<std::string> CacheMountDir(const image::Store& store, const Mount& mount) {
  std::string id = mount.id.empty() ? mount.target : mount.id;
  image::Sha256 sha;
  sha.Update(id);
  std::string root = store.root() + "/build-cache-mounts";
  ::mkdir(root.c_str(), 0700);
  std::string dir = root + "/" + image::DigestHex(sha.Final()).substr(0, 32);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Error::FromErrno("create " + dir);
  return dir;
}

}  // namespace

Result<SharedDir> StageBuilder::BindMountShare(const Mount& mount) {
  if (!mount.from.empty())
    return Error(ErrorKind::kUsage, "RUN --mount=type=bind,from=" + mount.from +
                                        " is not implemented by vk build; COPY --from "
                                        "the files into the stage instead");
  // The context is shared read-only even for rw: a RUN must never write
  // into the user's files (docker discards such writes too).
  auto matches = VK_TRY(s_.context.Select(mount.source.empty() ? "." : mount.source));
  const SourceFile& top = matches.front().files.front();
  if (top.meta.type != image::FileType::kDirectory)
    return Error(ErrorKind::kUsage, "RUN --mount=type=bind: " + mount.source +
                                        " must be a directory (virtio-fs shares directories)");
  return SharedDir{top.host_path, mount.target, true};
}

std::vector<std::string> StageBuilder::RunEnv() const {
  std::vector<std::string> env;
  bool has_path = false;
  for (const auto& [name, value] : scope_.values()) {
    env.push_back(name + "=" + value);
    has_path = has_path || name == "PATH";
  }
  // --build-arg HTTP_PROXY=... reaches RUN without an ARG line.
  for (const auto& [name, value] : s_.request.build_args)
    if (IsPredefinedArg(name) && !scope_.Get(name)) env.push_back(name + "=" + value);
  if (!has_path) env.push_back(std::string("PATH=") + kDefaultPath);
  return env;
}

std::vector<std::string> StageBuilder::RunArgv(const RunInstruction& run) const {
  if (run.command.form == CommandForm::kExec) return run.command.args;
  std::vector<std::string> argv = state_.snapshot.config.Shell();
  std::string script = run.command.args.empty() ? "" : run.command.args.front();
  // RUN <<EOF alone: the heredoc is the script. Otherwise the shell reads
  // the heredocs after the command line, as BuildKit passes them.
  size_t first = script.find_first_not_of(" \t");
  if (run.heredocs.size() == 1 && first != std::string::npos &&
      script.compare(first, 2, "<<") == 0 &&
      script.find_first_of(" \t", first) == std::string::npos) {
    argv.push_back(run.heredocs.front().Body());
    return argv;
  }
  for (const Heredoc& heredoc : run.heredocs) script += "\n" + heredoc.Body() + heredoc.name;
  argv.push_back(script);
  return argv;
}

Result<StagedSecrets> StageBuilder::RunMounts(const RunInstruction& run, RunStepSpec& spec) {
  for (const Mount& mount : run.mounts) {
    switch (mount.type) {
      case MountType::kBind: spec.shares.push_back(VK_TRY(BindMountShare(mount))); break;
      case MountType::kCache:
        spec.shares.push_back({VK_TRY(CacheMountDir(s_.store, mount)), mount.target, false});
        break;
      case MountType::kTmpfs:
        if (mount.target.empty())
          return Error(ErrorKind::kUsage, "RUN --mount=type=tmpfs needs target=PATH");
        spec.tmpfs.push_back({mount.target, mount.size, std::nullopt});
        break;
      case MountType::kSecret: break;  // StageSecrets, below
      case MountType::kSsh:
        return Error(ErrorKind::kUsage,
                     "RUN --mount=type=ssh is not implemented by vk build; copy a deploy key in "
                     "with --mount=type=secret instead");
    }
  }
  StagedSecrets secrets = VK_TRY(StageSecrets(run.mounts, s_.request.secrets));
  spec.shares.insert(spec.shares.end(), secrets.shares.begin(), secrets.shares.end());
  spec.binds = secrets.binds;
  spec.env.insert(spec.env.end(), secrets.env.begin(), secrets.env.end());
  return secrets;
}

// Mount points the VM's set-up creates that the base lacks, with every
// missing parent: the RUN's mounts and the agent's own file systems. The
// upper reader leaves them out unless the RUN put something there (BuildKit
// removes its mount stubs the same way).
Result<std::vector<std::string>> StageBuilder::MountStubs(const RunStepSpec& spec) {
  std::vector<std::string> targets(kAgentMountPoints.begin(), kAgentMountPoints.end());
  for (const SharedDir& share : spec.shares) targets.push_back(share.guest_path);
  for (const GuestTmpfs& tmpfs : spec.tmpfs) targets.push_back(tmpfs.guest_path);
  for (const GuestBind& bind : spec.binds) targets.push_back(bind.target);
  StageFiles* files = VK_TRY(state_.Files(s_.store));
  std::vector<std::string> stubs;
  for (const std::string& target : targets) {
    std::vector<std::string> missing = files->MissingPaths(target);
    stubs.insert(stubs.end(), missing.begin(), missing.end());
  }
  return stubs;
}

Result<void> StageBuilder::Run(const RunInstruction& run) {
  std::string dir = VK_TRY(s_.MakeWorkDir("run"));
  RunStepSpec spec;
  spec.root_disk = dir + "/root.ext4";
  spec.scratch_disk = dir + "/scratch.ext4";
  spec.image_store = s_.store.root();
  spec.argv = RunArgv(run);
  spec.env = RunEnv();
  spec.user = state_.snapshot.config.user;
  spec.workdir =
      state_.snapshot.config.working_dir.empty() ? "/" : state_.snapshot.config.working_dir;
  spec.network = run.network != NetworkMode::kNone && s_.request.network;
  StagedSecrets secrets = VK_TRY(RunMounts(run, spec));
  spec.memory_bytes = s_.request.run_memory_bytes;
  spec.cold = s_.request.cold;
  std::vector<std::string> layers;
  for (const LayerBlob& layer : state_.snapshot.layers)
    layers.push_back(s_.store.BlobPath(layer.digest));
  VK_TRY(image::FlattenLayersToExt4(layers, spec.root_disk, image::BuildOptions{})
             .Context("make the RUN step's root filesystem"));
  ++s_.outcome.vms_booted;
  RunStepOutcome outcome =
      VK_TRY(RunInMicroVm(spec, [this](std::string_view bytes) { s_.progress.Output(bytes); }));
  secrets = StagedSecrets();  // the host copies go with the VM
  if (outcome.exit_code != 0) {
    s_.outcome.failed_exit_code = outcome.exit_code;
    return Error(ErrorKind::kUsage,
                 "process " + Quoted(spec.argv) + " did not complete successfully: exit code: " +
                     std::to_string(outcome.exit_code) + "\n" + s_.progress.Tail());
  }
  std::string upper = dir + "/upper";
  if (::mkdir(upper.c_str(), 0700) != 0) return Error::FromErrno("create " + upper);
  UpperReadOptions options;
  options.skip = kVmFiles;
  options.stubs = VK_TRY(MountStubs(spec));
  LayerTar layer;
  VK_TRY(ReadUpperLayer(spec.scratch_disk, upper, options, layer));
  VK_TRY(CommitLayer(layer));
  // The disks are hundreds of MB: freed now; the build's end removes the rest.
  (void)RemoveTreeWithin(s_.work_dir, dir);
  return Ok();
}

}  // namespace vk::build
