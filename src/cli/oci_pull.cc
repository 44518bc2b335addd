// `vk oci-pull REF -o rootfs.tar`: pull and flatten an image into one tar
// (what `docker export` of a fresh container gives, without docker).
#include <cstdio>

#include "cli/command.h"
#include "image/build.h"
#include "image/pull.h"

namespace vk::cli {
namespace {

struct OciPullArgs {
  std::string ref;
  std::string output;
  std::string platform = "linux/amd64";
  std::string pull = "missing";
  bool insecure = false;
};

Result<void> Run(const OciPullArgs& a) {
  image::Store store = VK_TRY(image::Store::Open(VK_TRY(image::Store::DefaultRoot())));
  image::PullOptions options;
  options.platform = VK_TRY_CTX(image::ParsePlatform(a.platform), "--platform");
  options.insecure = a.insecure;
  image::PullPolicy policy = VK_TRY(image::ParsePullPolicy(a.pull));
  image::ImageRecord record = VK_TRY(image::ResolveImage(store, a.ref, policy, options));
  VK_TRY_CTX(image::FlattenLayersToTar(image::LayerPaths(store, record), a.output),
             "flatten " + record.name + " into " + a.output);
  std::fprintf(stderr, "wrote %s (%s)\n", a.output.c_str(), record.manifest_digest.c_str());
  return Ok();
}

Runner Setup(CLI::App& app) {
  static OciPullArgs a;
  app.add_option("image", a.ref, "Image reference")->required();
  app.add_option("-o,--output", a.output, "Tar file to write")->required();
  app.add_option("--platform", a.platform, "os/arch[/variant]");
  app.add_option("--pull", a.pull, "always|missing|never (default missing)");
  app.add_flag("--insecure", a.insecure, "Plain HTTP to the registry");
  return [] {
    auto result = Run(a);
    if (result.ok()) return 0;
    std::fprintf(stderr, "vk oci-pull: %s\n", result.error().message().c_str());
    return kExitUsage;
  };
}

Command kOciPull("oci-pull", "Pull an image and flatten it into one tar", &Setup);

}  // namespace
}  // namespace vk::cli
