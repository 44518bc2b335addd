// `vk image pull|ls|rm|prune|inspect|convert`: the local image store.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "cli/command.h"
#include "image/image_push.h"
#include "image/pull.h"
#include "image/rootfs_image.h"

namespace vk::cli {
namespace {

using nlohmann::json;

struct ImageArgs {
  std::vector<std::string> refs;
  std::string platform = "linux/amd64";
  std::string pull = "missing";
  bool insecure = false;
  bool quiet = false;
  bool digests = false;
  std::string packages;
  std::string suite = "bookworm";
  std::string mirror;
};

Result<image::PullOptions> PullOptionsFrom(const ImageArgs& a) {
  image::PullOptions options;
  options.platform = VK_TRY_CTX(image::ParsePlatform(a.platform), "--platform");
  options.insecure = a.insecure;
  return options;
}

Result<image::Store> OpenStore() { return image::Store::Open(VK_TRY(image::Store::DefaultRoot())); }

std::string Age(int64_t created) {
  int64_t seconds = static_cast<int64_t>(std::time(nullptr)) - created;
  if (seconds < 120) return std::to_string(seconds) + " seconds ago";
  if (seconds < 7200) return std::to_string(seconds / 60) + " minutes ago";
  if (seconds < 172800) return std::to_string(seconds / 3600) + " hours ago";
  return std::to_string(seconds / 86400) + " days ago";
}

Result<void> Pull(const ImageArgs& a) {
  image::Store store = VK_TRY(OpenStore());
  image::PullOptions options = VK_TRY(PullOptionsFrom(a));
  for (const std::string& ref : a.refs) {
    image::ImageRecord r =
        VK_TRY(image::ResolveImage(store, ref, image::PullPolicy::kAlways, options));
    std::printf("%s %s\n", r.name.c_str(), r.manifest_digest.c_str());
  }
  return Ok();
}

Result<void> List(const ImageArgs& a) {
  image::Store store = VK_TRY(OpenStore());
  auto records = VK_TRY(store.ListImages());
  if (!a.quiet)
    std::printf("%-50s %-14s %-12s %-10s %-9s %s\n", "IMAGE", "MANIFEST", "PLATFORM", "SIZE",
                "BASE", "PULLED");
  for (const image::ImageRecord& r : records) {
    std::string digest = a.digests ? r.manifest_digest : r.manifest_digest.substr(7, 12);
    if (a.quiet) {
      std::printf("%s\n", r.name.c_str());
      continue;
    }
    bool base = ::access(store.BasePath(r.manifest_digest).c_str(), F_OK) == 0;
    std::printf("%-50s %-14s %-12s %-10s %-9s %s\n", r.name.c_str(), digest.c_str(),
                r.platform.c_str(), Progress::FormatBytes(r.size).c_str(), base ? "built" : "-",
                Age(r.created).c_str());
  }
  return Ok();
}

Result<image::ImageRecord> FindStored(const image::Store& store, const std::string& ref) {
  image::ImageSource source = VK_TRY(image::ParseImageSource(ref));
  auto found = VK_TRY(store.FindImage(image::StoreName(source)));
  if (!found) return Error("no image " + ref + " in the store (see `vk image ls`)");
  return *found;
}

Result<void> Remove(const ImageArgs& a) {
  image::Store store = VK_TRY(OpenStore());
  for (const std::string& ref : a.refs) {
    image::ImageRecord r = VK_TRY(FindStored(store, ref));
    VK_TRY(store.RemoveImage(r.name));
    std::printf("removed %s\n", r.name.c_str());
  }
  image::PruneResult pruned = VK_TRY(store.Prune());  // as `docker rmi`: free what is unused
  std::printf("freed %s\n", Progress::FormatBytes(pruned.bytes_freed).c_str());
  return Ok();
}

Result<void> Prune() {
  image::Store store = VK_TRY(OpenStore());
  image::PruneResult pruned = VK_TRY(store.Prune(image::Store::BuildCachePolicy::kDrop));
  std::printf("removed %llu build cache entries, %llu blobs and %llu bases, freed %s\n",
              static_cast<unsigned long long>(pruned.cache_entries_removed),
              static_cast<unsigned long long>(pruned.blobs_removed),
              static_cast<unsigned long long>(pruned.bases_removed),
              Progress::FormatBytes(pruned.bytes_freed).c_str());
  return Ok();
}

Result<void> Inspect(const ImageArgs& a) {
  image::Store store = VK_TRY(OpenStore());
  json all = json::array();
  for (const std::string& ref : a.refs) {
    image::ImageRecord r = VK_TRY(FindStored(store, ref));
    image::ImageConfig c = VK_TRY(image::ReadImageConfig(store, r));
    std::string base = store.BasePath(r.manifest_digest);
    all.push_back({{"Name", r.name},
                   {"Source", r.source},
                   {"ManifestDigest", r.manifest_digest},
                   {"ConfigDigest", r.config_digest},
                   {"Layers", r.layers},
                   {"Size", r.size},
                   {"Platform", r.platform},
                   {"Created", r.created},
                   {"Base", ::access(base.c_str(), F_OK) == 0 ? json(base) : json(nullptr)},
                   {"Config",
                    {{"Entrypoint", c.entrypoint},
                     {"Cmd", c.cmd},
                     {"Env", c.env},
                     {"WorkingDir", c.working_dir},
                     {"User", c.user}}}});
  }
  std::printf("%s\n", all.dump(2).c_str());
  return Ok();
}

Result<void> Convert(const ImageArgs& a) {
  image::Store store = VK_TRY(OpenStore());
  image::PullOptions options = VK_TRY(PullOptionsFrom(a));
  image::PullPolicy policy = VK_TRY(image::ParsePullPolicy(a.pull));
  for (const std::string& ref : a.refs) {
    image::ImageRecord r = VK_TRY(image::ResolveImage(store, ref, policy, options));
    std::printf("%s\n", VK_TRY(image::EnsureBase(store, r)).c_str());
  }
  return Ok();
}

// LOCAL [REMOTE]: REMOTE defaults to LOCAL's own name (a registry name).
Result<void> Push(const ImageArgs& a) {
  image::Store store = VK_TRY(OpenStore());
  image::ImageRecord r = VK_TRY(FindStored(store, a.refs.at(0)));
  std::string remote = a.refs.size() > 1 ? a.refs[1] : r.name;
  image::ImageSource target = VK_TRY(image::ParseImageSource(remote));
  if (target.kind != image::SourceKind::kRegistry)
    return Error(ErrorKind::kUsage, "push needs a registry name as REMOTE (e.g. " +
                                        std::string("localhost:5000/app:v1), not ") + remote);
  image::ImagePushOptions options;
  options.insecure = a.insecure;
  image::ImagePushResult pushed = VK_TRY(image::PushImage(store, r, target.reference, options));
  std::printf("%s %s (sent %s; %d blobs pushed, %d present, %d mounted)\n",
              target.reference.Canonical().c_str(), pushed.manifest_digest.c_str(),
              Progress::FormatBytes(pushed.bytes_sent).c_str(), pushed.uploaded, pushed.present,
              pushed.mounted);
  return Ok();
}

Result<void> FromDebian(const ImageArgs& a) {
  image::Store store = VK_TRY(OpenStore());
  image::DebianOptions options;
  options.suite = a.suite;
  options.mirror = a.mirror;
  for (const std::string& p : Split(a.packages, ','))
    if (!p.empty()) options.packages.push_back(p);
  image::ImageRecord r = VK_TRY(image::ImageFromDebian(store, a.refs.at(0), options));
  std::printf("%s %s\n", r.name.c_str(), r.manifest_digest.c_str());
  return Ok();
}

void AddPullOptions(CLI::App* app, ImageArgs& a) {
  app->add_option("--platform", a.platform,
                  "os/arch[/variant] to pull from a multi-platform image");
  app->add_flag("--insecure", a.insecure, "Plain HTTP to the registry (local test registries)");
}

Runner Setup(CLI::App& app) {
  static ImageArgs a;
  app.require_subcommand(1);
  CLI::App* pull = app.add_subcommand("pull", "Pull images into the store");
  pull->add_option("image", a.refs, "Image reference(s)")->required();
  AddPullOptions(pull, a);
  CLI::App* push = app.add_subcommand("push", "Push a stored image to a registry");
  push->add_option("image", a.refs, "LOCAL [REMOTE] (REMOTE defaults to LOCAL)")
      ->required()
      ->expected(1, 2);
  push->add_flag("--insecure", a.insecure, "Plain HTTP to the registry (local test registries)");
  CLI::App* ls = app.add_subcommand("ls", "List stored images");
  ls->add_flag("-q,--quiet", a.quiet, "Names only");
  ls->add_flag("--digests", a.digests, "Full manifest digests");
  CLI::App* rm = app.add_subcommand("rm", "Remove images (and free their unused blobs)");
  rm->add_option("image", a.refs, "Image reference(s)")->required();
  CLI::App* prune =
      app.add_subcommand("prune", "Delete the build cache, and blobs and bases no image uses");
  CLI::App* inspect = app.add_subcommand("inspect", "Show stored image details as JSON");
  inspect->add_option("image", a.refs, "Image reference(s)")->required();
  CLI::App* convert =
      app.add_subcommand("convert", "Build (or find) the ext4 base; prints its path");
  convert->add_option("image", a.refs, "Image reference(s)")->required();
  convert->add_option("--pull", a.pull, "always|missing|never (default missing)");
  AddPullOptions(convert, a);
  CLI::App* debian = app.add_subcommand("from-debian", "Build a Debian image with mmdebstrap");
  debian->add_option("name", a.refs, "Image name, e.g. debian:local")->required()->expected(1);
  debian->add_option("--packages", a.packages, "Extra packages, comma separated");
  debian->add_option("--suite", a.suite, "Debian suite (default bookworm)");
  debian->add_option("--mirror", a.mirror, "Debian mirror URL");
  return [=, &app]() {
    Result<void> result = Ok();
    std::string name = app.get_subcommands().empty() ? "" : app.get_subcommands()[0]->get_name();
    if (pull->parsed()) result = Pull(a);
    if (push->parsed()) result = Push(a);
    if (ls->parsed()) result = List(a);
    if (rm->parsed()) result = Remove(a);
    if (prune->parsed()) result = Prune();
    if (inspect->parsed()) result = Inspect(a);
    if (convert->parsed()) result = Convert(a);
    if (debian->parsed()) result = FromDebian(a);
    return result.ok() ? 0 : Fail("image " + std::string(name), result.error());
  };
}

Command kImage("image",
               "Manage the image store (pull, push, ls, rm, prune, inspect, convert, from-debian)",
               &Setup);

}  // namespace
}  // namespace vk::cli
