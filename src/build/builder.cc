#include "build/builder.h"

#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

#include "base/file_io.h"
#include "base/remove_tree.h"
#include "build/build_session.h"
#include "build/dockerfile_parser.h"
#include "build/stage_builder.h"
#include "build/stage_graph.h"
#include "build/stage_scheduler.h"
#include "image/manifest.h"
#include "image/pull.h"
#include "image/reference.h"

namespace vk::build {
namespace {

// A Dockerfile is text a person wrote; 16 MiB is far beyond any real one.
constexpr uint64_t kMaxDockerfileBytes = 16 << 20;

// The platform args BuildKit supplies (docs: "Automatic platform ARGs").
VariableMap AutomaticArgs() {
  return {{"TARGETPLATFORM", "linux/amd64"},
          {"TARGETOS", "linux"},
          {"TARGETARCH", "amd64"},
          {"TARGETVARIANT", ""},
          {"BUILDPLATFORM", "linux/amd64"},
          {"BUILDOS", "linux"},
          {"BUILDARCH", "amd64"},
          {"BUILDVARIANT", ""}};
}

Result<Dockerfile> ReadDockerfile(const BuildRequest& request) {
  std::string path =
      request.dockerfile.empty() ? request.context_dir + "/Dockerfile" : request.dockerfile;
  auto bytes = ReadFileBytes(path, kMaxDockerfileBytes);
  if (!bytes.ok())
    return Error(ErrorKind::kNotFound,
                 "read " + path + ": " + bytes.error().message() + " (name the file with -f)");
  std::string_view text(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  std::string name = path.substr(path.rfind('/') + 1);
  return ParseDockerfile(text, name);
}

// Writes the config and manifest blobs and the image records of the tags.
Result<image::ImageRecord> WriteImage(BuildSession& s, const StageState& final) {
  BuildConfig config = final.snapshot.config;
  config.diff_ids.clear();
  std::vector<image::Descriptor> layers;
  uint64_t size = 0;
  for (const LayerBlob& layer : final.snapshot.layers) {
    config.diff_ids.push_back(layer.digest);  // uncompressed: the digest is the diff_id
    layers.push_back({std::string(image::kOciLayer), layer.digest, layer.size, std::nullopt, {}});
    size += layer.size;
  }
  std::string config_json = SerializeBuildConfig(config);
  image::Descriptor config_descriptor{std::string(image::kOciConfig),
                                      VK_TRY(s.store.PutBlob(config_json)),
                                      config_json.size(),
                                      std::nullopt,
                                      {}};
  std::string manifest = image::SerializeOciManifest(config_descriptor, layers);
  image::ImageRecord record;
  record.manifest_digest = VK_TRY(s.store.PutBlob(manifest));
  record.config_digest = config_descriptor.digest;
  for (const LayerBlob& layer : final.snapshot.layers) record.layers.push_back(layer.digest);
  record.size = size + config_json.size();
  record.platform = config.os + "/" + config.architecture;
  record.created = std::time(nullptr);
  record.source = "vk build " + s.context.root();
  for (const std::string& tag : s.request.tags) {
    record.name = image::StoreName(VK_TRY(image::ParseImageSource(tag)));
    VK_TRY(s.store.WriteImage(record));
    s.outcome.names.push_back(record.name);
  }
  s.outcome.manifest_digest = record.manifest_digest;
  s.outcome.config_digest = record.config_digest;
  return record;
}

Result<void> CheckTags(const std::vector<std::string>& tags) {
  for (const std::string& tag : tags) {
    image::ImageSource source = VK_TRY(image::ParseImageSource(tag).WithKind(ErrorKind::kUsage));
    if (source.kind != image::SourceKind::kRegistry)
      return Error(ErrorKind::kUsage, "-t " + tag + ": name the image like NAME[:TAG]");
  }
  return Ok();
}

Result<void> BuildAll(BuildSession& s) {
  const Dockerfile& dockerfile = s.dockerfile;
  for (const Instruction& arg : dockerfile.global_args)
    VK_TRY(s.global.Declare(std::get<ArgInstruction>(arg.args), dockerfile.directives.escape));
  size_t target = VK_TRY(ResolveTarget(dockerfile, s.request.target));
  std::vector<StageTask> tasks;
  for (size_t index : VK_TRY(StagesToBuild(dockerfile, target, s.global.Lookup())))
    tasks.push_back({index, VK_TRY(DirectDependencies(dockerfile, index, s.global.Lookup()))});
  auto build_stage = [&s](size_t index) -> Result<void> {
    std::lock_guard host(s.host_work);
    StageBuilder builder(s, index);
    StageState built = VK_TRY(builder.Build());
    s.stages[index] = std::move(built);
    return Ok();
  };
  VK_TRY(RunStages(tasks, s.request.jobs, build_stage, [&s] { s.cancelled = true; }));
  const StageState& final = s.stages.at(target);
  image::ImageRecord record = VK_TRY(WriteImage(s, final));
  if (s.request.tags.empty()) return Ok();
  s.progress.Note("writing image " + record.manifest_digest);
  s.outcome.base_path = VK_TRY(image::EnsureBase(s.store, record, Progress::Style::kQuiet));
  for (const std::string& name : s.outcome.names) s.progress.Note("naming to " + name);
  return Ok();
}

}  // namespace

Result<void> BuildImage(const BuildRequest& request, BuildProgress& progress,
                        BuildOutcome& outcome) {
  VK_TRY(CheckTags(request.tags));
  Dockerfile dockerfile = VK_TRY(ReadDockerfile(request));
  BuildContext context = VK_TRY(BuildContext::Open(request.context_dir));
  std::string root =
      request.store_root.empty() ? VK_TRY(image::Store::DefaultRoot()) : request.store_root;
  image::Store store = VK_TRY(image::Store::Open(root));
  // Shared: a concurrent prune waits until this build's blobs are referenced.
  FileLock writing = VK_TRY(store.LockForWriting());
  VariableMap automatic = AutomaticArgs();
  BuildSession session{request,
                       progress,
                       store,
                       BuildCache(store),
                       std::move(dockerfile),
                       std::move(context),
                       VariableScope::Global(request.build_args, automatic),
                       {},
                       store.TempPath("build"),
                       {},
                       0};
  if (::mkdir(session.work_dir.c_str(), 0700) != 0)
    return Error::FromErrno("create " + session.work_dir);
  Result<void> built = BuildAll(session);
  // Best effort: what is left is swept by a later Store::Open (tmp/ owner tokens).
  (void)RemoveTreeWithin(store.root() + "/tmp", session.work_dir);
  outcome = session.outcome;
  return built;
}

}  // namespace vk::build
