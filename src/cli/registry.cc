// `vk registry push BUNDLE REF` / `vk registry pull REF OUT`: VM bundles
// (a directory holding NAME.ext4 disks and optionally kernel, initrd, agent,
// config.json) in any OCI registry, chunked so only changes travel
// (docs/registry.md).
#include <cstdio>

#include "cli/command.h"
#include "image/bundle_transfer.h"

namespace vk::cli {
namespace {

struct RegistryArgs {
  std::string bundle;
  std::string ref;
  std::string out;
  bool insecure = false;
};

Result<image::Reference> BundleReference(const std::string& text) {
  auto ref = image::ParseReference(text);
  if (!ref.ok()) return std::move(ref).error().WithKind(ErrorKind::kUsage);
  return ref;
}

Result<void> Push(const RegistryArgs& a) {
  image::Reference ref = VK_TRY(BundleReference(a.ref));
  image::BundleOptions options;
  options.insecure = a.insecure;
  image::BundlePushResult r = VK_TRY(image::PushBundle(a.bundle, ref, options));
  std::printf("%s %s\n", ref.Canonical().c_str(), r.manifest_digest.c_str());
  std::fprintf(
      stderr,
      "%zu chunks of %s: %zu sent (%s of data as %s compressed), %s already in the "
      "registry, %s of zeros not stored\n",
      r.chunks, Progress::FormatBytes(r.total_bytes).c_str(), r.chunks_sent,
      Progress::FormatBytes(r.uploaded_bytes).c_str(), Progress::FormatBytes(r.bytes_sent).c_str(),
      Progress::FormatBytes(r.reused_bytes).c_str(), Progress::FormatBytes(r.zero_bytes).c_str());
  return Ok();
}

Result<void> Pull(const RegistryArgs& a) {
  image::Reference ref = VK_TRY(BundleReference(a.ref));
  image::BundleOptions options;
  options.insecure = a.insecure;
  image::BundlePullResult r = VK_TRY(image::PullBundle(ref, a.out, options));
  std::printf("%s %s\n", a.out.c_str(), r.manifest_digest.c_str());
  std::fprintf(stderr, "%zu of %zu chunks fetched (%s), %s already in place\n", r.chunks_fetched,
               r.chunks, Progress::FormatBytes(r.fetched_bytes).c_str(),
               Progress::FormatBytes(r.kept_bytes).c_str());
  return Ok();
}

Runner Setup(CLI::App& app) {
  static RegistryArgs a;
  app.require_subcommand(1);
  CLI::App* push = app.add_subcommand("push", "Push a VM bundle directory to a registry");
  push->add_option("bundle", a.bundle, "Bundle directory")->required();
  push->add_option("ref", a.ref, "Registry reference, e.g. localhost:5000/vm:v1")->required();
  push->add_flag("--insecure", a.insecure, "Plain HTTP to the registry (local test registries)");
  CLI::App* pull = app.add_subcommand("pull", "Pull a VM bundle into a new directory");
  pull->add_option("ref", a.ref, "Registry reference")->required();
  pull->add_option("out", a.out, "Directory to create")->required();
  pull->add_flag("--insecure", a.insecure, "Plain HTTP to the registry (local test registries)");
  return [=] {
    Result<void> result = push->parsed() ? Push(a) : Pull(a);
    return result.ok() ? 0
                       : Fail(push->parsed() ? "registry push" : "registry pull", result.error());
  };
}

Command kRegistry("registry", "Push and pull VM bundles (disk, kernel, agent) in chunks", &Setup);

}  // namespace
}  // namespace vk::cli
