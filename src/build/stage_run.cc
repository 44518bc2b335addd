// RUN steps of a stage (stage_builder.h): the stage so far becomes the
// VM's read-only base, the command runs in the VM, the overlay's upper
// directory becomes the step's layer.
#include <sys/stat.h>

#include <algorithm>

#include "base/remove_tree.h"
#include "build/bind_source.h"
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

struct CacheDir {
  std::string path;
  bool created = false;  // new and empty: from= seeds it
};

Result<CacheDir> CacheMountDir(const image::Store& store, const Mount& mount) {
  std::string id = mount.id.empty() ? mount.target : mount.id;
  image::Sha256 sha;
  sha.Update(id);
  std::string root = store.root() + "/build-cache-mounts";
  ::mkdir(root.c_str(), 0700);
  CacheDir dir{root + "/" + image::DigestHex(sha.Final()).substr(0, 32)};
  dir.created = ::mkdir(dir.path.c_str(), 0755) == 0;
  if (!dir.created && errno != EEXIST) return Error::FromErrno("create " + dir.path);
  return dir;
}

}  // namespace

// What a bind mount selects: from the context (after .dockerignore), or
// with from= from an earlier stage or an image, whose regular files are
// extracted into `extract_dir`. One path, no wildcards (BuildKit's source).
Result<SourceMatch> StageBuilder::BindSelection(const Mount& mount,
                                                const std::string& extract_dir) {
  std::string what = std::string("RUN --mount=type=") +
                     (mount.type == MountType::kCache ? "cache" : "bind") +
                     (mount.from.empty() ? "" : ",from=" + mount.from);
  if (HasWildcards(mount.source))
    return Error(ErrorKind::kUsage, what + ": source=" + mount.source + " must name one path");
  std::vector<SourceMatch> matches;
  if (mount.from.empty()) {
    matches = VK_TRY(s_.context.Select(mount.source.empty() ? "." : mount.source).Context(what));
  } else {
    StageFiles* files = VK_TRY(FromFiles(mount.from).Context(what));
    matches =
        VK_TRY(files->Select(mount.source.empty() ? "/" : mount.source, extract_dir).Context(what));
  }
  if (matches.size() != 1)
    return Error(ErrorKind::kUsage, what + ": the source must name one path");
  return std::move(matches.front());
}

// Lays out bind mount number `index` in the step's staging directory for
// its access (read-only or rw) and binds it onto its target.
Result<void> StageBuilder::StageBind(const Mount& mount, size_t index, RunStepSpec& spec) {
  if (mount.target.empty())
    return Error(ErrorKind::kUsage, "RUN --mount=type=bind needs target=PATH");
  const bool writable = !mount.read_only;
  const char* guest_dir = writable ? kWritableBindsGuestDir : kBindsGuestDir;
  auto share = std::find_if(spec.shares.begin(), spec.shares.end(),
                            [&](const SharedDir& s) { return s.guest_path == guest_dir; });
  if (share == spec.shares.end()) {
    spec.shares.push_back(
        {VK_TRY(s_.MakeWorkDir(writable ? "binds-rw" : "binds")), guest_dir, !writable});
    share = std::prev(spec.shares.end());
  }
  std::string extract = VK_TRY(s_.MakeWorkDir("bind-from"));
  SourceMatch match = VK_TRY(BindSelection(mount, extract));
  const std::string name = std::to_string(index);
  VK_TRY(LayOutBindSource(match, share->host_path + "/" + name, /*copy=*/writable,
                          mount.from.empty() ? Sources::kUser : Sources::kOurs));
  spec.binds.push_back({std::string(guest_dir) + "/" + name, mount.target, !writable});
  return Ok();
}

// A cache mount's directory, shared read-write. A new one with from= starts
// as a copy of that directory (BuildKit: "base of the cache mount").
Result<SharedDir> StageBuilder::CacheShare(const Mount& mount) {
  if (mount.target.empty())
    return Error(ErrorKind::kUsage, "RUN --mount=type=cache needs target=PATH");
  CacheDir dir = VK_TRY(CacheMountDir(s_.store, mount));
  if (dir.created && !mount.from.empty()) {
    std::string extract = VK_TRY(s_.MakeWorkDir("cache-from"));
    SourceMatch match = VK_TRY(BindSelection(mount, extract));
    if (!match.directory && match.files.front().meta.type != image::FileType::kDirectory)
      return Error(ErrorKind::kUsage, "RUN --mount=type=cache,from=" + mount.from + ": " +
                                          match.name + " must be a directory");
    if (::rmdir(dir.path.c_str()) != 0) return Error::FromErrno("replace " + dir.path);
    auto seeded = LayOutBindSource(match, dir.path, /*copy=*/true, Sources::kOurs);
    if (!seeded.ok()) {
      // Never leave a half-seeded cache behind for the next build to trust.
      (void)RemoveTreeWithin(s_.store.root() + "/build-cache-mounts", dir.path);
      return std::move(seeded).error();
    }
  }
  return SharedDir{dir.path, mount.target, false};
}

// A bind mount's part of a RUN's key: what its source holds, as COPY keys
// its sources (the files' digest, the stage's key, the image's manifest).
Result<std::string> StageBuilder::BindKey(const Mount& mount) {
  std::string key =
      "bind:" + mount.target + ":" + (mount.read_only ? "ro:" : "rw:") + mount.source + ":";
  if (!mount.from.empty()) return key + VK_TRY(FromKey(mount.from));
  auto matches = VK_TRY(s_.context.Select(mount.source.empty() ? "." : mount.source));
  return key + "context:" + VK_TRY(DigestSources(matches));
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
  size_t binds = 0;
  for (const Mount& mount : run.mounts) {
    switch (mount.type) {
      case MountType::kBind: VK_TRY(StageBind(mount, binds++, spec)); break;
      case MountType::kCache: spec.shares.push_back(VK_TRY(CacheShare(mount))); break;
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
  spec.binds.insert(spec.binds.end(), secrets.binds.begin(), secrets.binds.end());
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
  RunStepOutcome outcome = VK_TRY(RunInMicroVm(
      spec, [this](std::string_view bytes) { s_.progress.Output(step_, bytes); },
      StepWaiting{&s_.host_work, &s_.cancelled}));
  secrets = StagedSecrets();  // the host copies go with the VM
  if (outcome.exit_code != 0) {
    s_.outcome.failed_exit_code = outcome.exit_code;
    return Error(ErrorKind::kUsage,
                 "process " + Quoted(spec.argv) + " did not complete successfully: exit code: " +
                     std::to_string(outcome.exit_code) + "\n" + s_.progress.Tail(step_));
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
