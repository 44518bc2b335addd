// `vk run [OPTIONS] IMAGE [-- CMD ARGS...]`: an OCI image as a microVM, with
// docker's workflow. A thin parser: argv -> RunSpec -> the runtime's Run
// (runtime/run_spec.h), which `vk supervise` and the library share.
// `vk run -f Dockerfile [--target S] [--build-arg K=V] ...` builds the image
// first (cached: src/build/builder.h), with the Dockerfile's directory as
// the context, and runs what it built.
#include <limits.h>
#include <stdlib.h>

#include "cli/build_flags.h"
#include "cli/command.h"
#include "cli/vm_flags.h"
#include "image/sha256.h"
#include "runtime/mount_spec.h"
#include "runtime/run_spec.h"

namespace vk::cli {
namespace {

struct RunArgs {
  RunSpec spec;
  VmFlags vm{"1G"};
  BuildFlags build;
  std::vector<std::string> env_files, volumes, tmpfs;
  std::string host_workdir, pull = "missing";
};

Result<RunSpec> SpecFrom(const RunArgs& a) {
  RunSpec spec = a.spec;
  // --env-file entries come before -e ones (-e wins), after the image's.
  for (const std::string& file : a.env_files) {
    auto more = VK_TRY(ReadEnvFile(file));
    spec.env.insert(spec.env.end(), more.begin(), more.end());
  }
  VK_TRY(a.vm.ApplyTo(spec));
  spec.pull = VK_TRY(image::ParsePullPolicy(a.pull).WithKind(ErrorKind::kUsage));
  for (const std::string& v : a.volumes) spec.shares.push_back(VK_TRY(ParseShare(v)));
  for (const std::string& t : a.tmpfs) spec.tmpfs.push_back(VK_TRY(ParseTmpfsFlag(t)));
  if (!a.host_workdir.empty()) {
    spec.shares.push_back({a.host_workdir, "/work", false});
    spec.workdir = "/work";
  }
  if (!spec.image.empty() && !spec.rootfs_path.empty())
    return Error(ErrorKind::kUsage, "give an IMAGE or --rootfs, not both");
  if (spec.image.empty() && spec.rootfs_path.empty())
    return Error(ErrorKind::kUsage, "give an IMAGE (or --rootfs PATH)");
  spec.command = GuestCommand();
  return spec;
}

// The name `vk run -f` stores its build under: one per Dockerfile and
// target, so a later run of the same file finds (and replaces) it.
std::string BuiltImageName(const std::string& dockerfile, const std::string& target) {
  image::Sha256 sha;
  sha.Update(dockerfile);
  sha.Update("\n" + target);
  return "vk-run/" + image::DigestHex(sha.Final()).substr(0, 16) + ":latest";
}

// Builds the Dockerfile and points the spec at the result.
Result<void> BuildFirst(RunArgs& a) {
  if (!a.spec.image.empty() || !a.spec.rootfs_path.empty())
    return Error(ErrorKind::kUsage, "give -f Dockerfile or an IMAGE (or --rootfs), not both");
  char real[PATH_MAX];
  if (::realpath(a.build.dockerfile.c_str(), real) == nullptr)
    return Error::FromErrno("-f " + a.build.dockerfile).WithKind(ErrorKind::kNotFound);
  build::BuildRequest request;
  request.dockerfile = real;
  request.context_dir = std::string(real).substr(0, std::string(real).rfind('/'));
  if (request.context_dir.empty()) request.context_dir = "/";
  VK_TRY(a.build.Fill(request));
  request.network = !a.vm.net.net.empty();
  request.cold = a.vm.cold;
  request.tags = {BuiltImageName(real, a.build.target)};
  build::BuildProgress progress(VK_TRY(build::ParseProgressMode(a.build.progress)));
  build::BuildOutcome outcome;
  VK_TRY(build::BuildImage(request, progress, outcome).Context("build " + a.build.dockerfile));
  a.spec.image = request.tags.front();
  a.pull = "never";
  return Ok();
}

Runner Setup(CLI::App& app) {
  static RunArgs a;
  RunSpec& s = a.spec;
  app.add_option("image", s.image, "Image: alpine:latest, ghcr.io/o/r@sha256:..., oci:DIR...");
  app.add_option("--rootfs", s.rootfs_path,
                 "Boot a root filesystem instead of an image: a directory (made into a cached "
                 "ext4 base) or an ext4 image");
  app.add_flag("--shell", s.shell, "Interactive login shell (bash if present, else sh)");
  app.add_flag("-i,--interactive", s.interactive, "Keep stdin open");
  app.add_flag("-t,--tty", s.tty, "Run the command on a terminal");
  app.add_option("--env-file", a.env_files, "Read K=V lines from FILE");
  app.add_option("-w,--workdir", a.host_workdir, "Share host DIR at /work and run there");
  app.add_option("-v,--volume", a.volumes, "Share HOST:GUEST[:ro] (repeatable)");
  app.add_option("--tmpfs", a.tmpfs,
                 "Mount a tmpfs at PATH[:size=64m,mode=1777] (repeatable; nosuid,nodev)")
      ->allow_extra_args(false);
  app.add_flag("!--no-rm", s.remove_on_exit, "Keep a named foreground VM's state after it exits");
  app.add_flag("--rm", s.remove_on_exit,
               "Remove the VM's state when it exits (default in the foreground)");
  app.add_flag("--keep", s.keep_scratch, "Keep the scratch disk (the VM's writes) after it exits");
  app.add_option("-u,--user", s.user, "User: name, uid, name:group or uid:gid");
  app.add_option("--entrypoint", s.entrypoint, "Override the image's entrypoint");
  app.add_option("--pull", a.pull, "always|missing|never (default missing)");
  app.add_option("--platform", s.platform, "os/arch to pull");
  app.add_flag("--insecure", s.insecure, "Plain HTTP to the registry");
  a.vm.Add(app);
  a.build.Add(app, "Build this Dockerfile (its directory is the context) and run the result");
  app.footer("Everything after -- is the command (it replaces the image's Cmd).");
  return [] {
    if (!a.build.dockerfile.empty()) {
      if (auto built = BuildFirst(a); !built.ok()) return Fail("run", built.error());
    }
    auto spec = SpecFrom(a);
    if (!spec.ok()) return Fail("run", spec.error());
    return ExitCodeOf("run", Run(*spec));
  };
}

Command kRun("run", "Run a command in a new microVM from an image", &Setup);

}  // namespace
}  // namespace vk::cli
