// `vk build [-f Dockerfile] [-t NAME:TAG]... [--target STAGE] [--build-arg
// K=V] [--secret id=ID,src=FILE] [--no-cache] [--net] [--progress auto|plain]
// [--jobs N] CONTEXT`: a Dockerfile built into an image in the store
// (src/build/builder.h, docs/build.md).
#include <cstdio>

#include "cli/build_flags.h"
#include "cli/command.h"
#include "runtime/machine_size.h"

namespace vk::cli {
namespace {

struct BuildArgs {
  BuildFlags flags;
  std::vector<std::string> tags;
  std::string context = ".";
  bool net = false;
  bool cold = false;
  std::string memory = "512M";
};

int RunBuild(const BuildArgs& a) {
  build::BuildRequest request;
  request.context_dir = a.context;
  request.dockerfile = a.flags.dockerfile;
  request.tags = a.tags;
  request.network = a.net;
  request.cold = a.cold;
  if (auto filled = a.flags.Fill(request); !filled.ok()) return Fail("build", filled.error());
  auto memory = ParseMemory(a.memory);
  if (!memory.ok()) return Fail("build", memory.error());
  request.run_memory_bytes = *memory;
  auto mode = build::ParseProgressMode(a.flags.progress);
  if (!mode.ok()) return Fail("build", mode.error());
  build::BuildProgress progress(*mode);
  build::BuildOutcome outcome;
  auto built = build::BuildImage(request, progress, outcome);
  if (!built.ok()) {
    int code = Fail("build", built.error());
    return outcome.failed_exit_code ? 1 : code;  // docker build: 1 for a failing RUN
  }
  std::fprintf(stderr, "vk build: %zu steps, %zu cached, %zu VMs booted\n", outcome.steps,
               outcome.cached, outcome.vms_booted);
  std::printf("%s\n", outcome.manifest_digest.c_str());
  return 0;
}

Runner Setup(CLI::App& app) {
  static BuildArgs a;
  app.add_option("context", a.context, "The build context directory (default .)");
  a.flags.Add(app, "The Dockerfile (default CONTEXT/Dockerfile)");
  // One value per -t: `vk build -t app:1 .` must leave "." to CONTEXT.
  app.add_option("-t,--tag", a.tags, "Name the image NAME[:TAG] (repeatable)")
      ->allow_extra_args(false);
  app.add_flag("--net", a.net, "RUN steps get a network (the VM's own LAN); default: none");
  app.add_flag("--cold", a.cold, "RUN VMs boot the kernel instead of a warm template");
  app.add_option("--mem,--memory", a.memory, "Memory of each RUN step's VM (default 512M)");
  return [] { return RunBuild(a); };
}

Command kBuild("build", "Build an image from a Dockerfile (RUN steps in microVMs)", &Setup);

}  // namespace
}  // namespace vk::cli
