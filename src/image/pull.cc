#include "image/pull.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <filesystem>
#include <thread>

#include "base/log.h"
#include "image/build.h"
#include "image/local_source.h"
#include "image/registry_client.h"

namespace vk::image {
namespace {

struct ResolvedManifest {
  std::string digest;
  Manifest manifest;
};

// Tag -> (index ->) the platform's image manifest; each stored as a blob.
Result<ResolvedManifest> ResolveManifest(RegistryClient& client, Store& store,
                                         const PullOptions& options) {
  FetchedManifest top = VK_TRY(client.FetchManifest(client.reference().ManifestReference()));
  Manifest parsed = VK_TRY(ParseManifest(top.body, top.content_type));
  VK_TRY(store.PutBlob(top.digest, top.body));
  if (parsed.kind == ManifestKind::kManifest) return ResolvedManifest{top.digest, parsed};
  Descriptor chosen = VK_TRY(SelectPlatform(parsed, options.platform));
  if (chosen.size > kMaxManifestBytes)
    return Error("manifest " + chosen.digest + " declares " + std::to_string(chosen.size) +
                 " bytes, over the " + std::to_string(kMaxManifestBytes) + "-byte limit");
  FetchedManifest child = VK_TRY(client.FetchManifest(chosen.digest));
  if (child.body.size() != chosen.size)
    return Error("manifest " + chosen.digest + " is " + std::to_string(child.body.size()) +
                 " bytes, its index entry says " + std::to_string(chosen.size));
  Manifest image = VK_TRY(ParseManifest(child.body, child.content_type));
  if (image.kind != ManifestKind::kManifest)
    return Error("manifest " + chosen.digest + " for " + options.platform.ToString() +
                 " is another index; nested indexes are not supported");
  VK_TRY(store.PutBlob(child.digest, child.body));
  return ResolvedManifest{child.digest, image};
}

std::string ShortDigest(std::string_view digest) {
  return std::string(digest.substr(digest.find(':') + 1, 12));
}

// Downloads layers with `parallel` connections; the first error wins.
Result<void> FetchLayers(RegistryClient& client, Store& store,
                         const std::vector<Descriptor>& layers, const PullOptions& options) {
  Progress progress(options.progress);
  std::vector<size_t> tasks;
  for (const Descriptor& d : layers) tasks.push_back(progress.Add(ShortDigest(d.digest), d.size));
  std::atomic<size_t> next{0};
  std::mutex error_mutex;
  std::optional<Error> first_error;
  auto worker = [&] {
    for (size_t i = next++; i < layers.size(); i = next++) {
      const Descriptor& d = layers[i];
      bool had = store.HasBlob(d.digest);
      auto result = client.FetchBlob(store, d.digest, d.size, [&](uint64_t done, uint64_t total) {
        progress.Update(tasks[i], done, total);
      });
      progress.Finish(tasks[i], !result.ok() ? "failed"
                                : had        ? "already present"
                                             : "pulled " + Progress::FormatBytes(d.size));
      if (!result.ok()) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::move(result).error();
        next = layers.size();  // stop handing out work
      }
    }
  };
  size_t threads = std::min<size_t>(std::max(1, options.parallel_layers), layers.size());
  std::vector<std::thread> pool;
  for (size_t i = 0; i < threads; ++i) pool.emplace_back(worker);
  for (std::thread& t : pool) t.join();
  if (first_error) return std::move(*first_error);
  return Ok();
}

Result<ImageRecord> PullFromRegistry(Store& store, const ImageSource& source,
                                     const PullOptions& options) {
  RegistryOptions registry_options;
  registry_options.insecure = options.insecure;
  RegistryClient client(source.reference, registry_options);
  FileLock gc = VK_TRY(store.LockForWriting());
  ResolvedManifest resolved = VK_TRY(ResolveManifest(client, store, options));
  const Manifest& m = resolved.manifest;
  VK_TRY(CheckImageSize(m, source.Display(), VK_TRY(MaxImageSize())));
  VK_TRY(client.FetchBlob(store, m.config.digest, m.config.size));
  std::string config_json = VK_TRY(store.ReadBlob(m.config.digest, kMaxConfigBytes));
  ImageConfig config = VK_TRY_CTX(ParseImageConfig(config_json), "image config");
  VK_TRY(FetchLayers(client, store, m.layers, options));
  ImageRecord record;
  record.name = StoreName(source);
  record.source = source.Display();
  record.manifest_digest = resolved.digest;
  record.config_digest = m.config.digest;
  record.size = m.config.size;
  for (const Descriptor& layer : m.layers) {
    record.layers.push_back(layer.digest);
    record.size += layer.size;
  }
  record.platform = config.os + "/" + config.architecture;
  record.created = std::time(nullptr);
  VK_TRY(store.WriteImage(record));
  return record;
}

}  // namespace

Result<PullPolicy> ParsePullPolicy(std::string_view text) {
  if (text == "always") return PullPolicy::kAlways;
  if (text == "missing") return PullPolicy::kMissing;
  if (text == "never") return PullPolicy::kNever;
  return Error("--pull must be always, missing or never (got \"" + std::string(text) + "\")");
}

// Local sources are named by absolute path, so `oci:x` means the same image
// from any working directory.
ImageSource Normalized(const ImageSource& source) {
  ImageSource out = source;
  if (out.kind != SourceKind::kRegistry) {
    std::error_code error;
    auto absolute = std::filesystem::absolute(out.path, error);
    if (!error) out.path = absolute.lexically_normal().string();
  }
  return out;
}

std::string StoreName(const ImageSource& source) {
  if (source.kind == SourceKind::kRegistry) return source.reference.Canonical();
  return Normalized(source).Display();
}

Result<ImageRecord> PullImage(Store& store, const ImageSource& given, const PullOptions& options) {
  ImageSource source = Normalized(given);
  std::string what = "pull " + source.Display();
  if (source.kind != SourceKind::kRegistry)
    return ImportLocalImage(store, source, options.platform).Context(what);
  return PullFromRegistry(store, source, options).Context(what);
}

Result<ImageRecord> ResolveImage(Store& store, std::string_view text, PullPolicy policy,
                                 const PullOptions& options) {
  ImageSource source = VK_TRY(ParseImageSource(text));
  if (policy != PullPolicy::kAlways) {
    auto found = VK_TRY(store.FindImage(StoreName(source)));
    if (found) return *found;
    if (policy == PullPolicy::kNever)
      return Error(ErrorKind::kNotFound,
                   "image " + std::string(text) +
                       " is not in the store and --pull=never: run `vk image pull " +
                       std::string(text) + "`");
  }
  return PullImage(store, source, options);
}

std::vector<std::string> LayerPaths(const Store& store, const ImageRecord& record) {
  std::vector<std::string> paths;
  for (const std::string& layer : record.layers) paths.push_back(store.BlobPath(layer));
  return paths;
}

Result<ImageConfig> ReadImageConfig(const Store& store, const ImageRecord& record) {
  std::string json = VK_TRY(store.ReadBlob(record.config_digest, kMaxConfigBytes));
  return ParseImageConfig(json);
}

Result<std::string> EnsureBase(Store& store, const ImageRecord& record, Progress::Style style) {
  std::string inputs = BaseInputs(record.manifest_digest, record.layers);
  if (store.HasBase(record.manifest_digest, inputs, Repair::kReportOnly))
    return store.BasePath(record.manifest_digest);
  FileLock lock = VK_TRY(store.LockBase(record.manifest_digest));
  // Built while we waited, or else damaged: then it goes and is rebuilt.
  if (store.HasBase(record.manifest_digest, inputs, Repair::kRemoveDamaged))
    return store.BasePath(record.manifest_digest);
  for (const std::string& layer : record.layers)
    if (!store.HasBlob(layer))
      return Error("layer " + layer + " of " + record.name +
                   " is missing from the store (or was damaged): run `vk image pull " +
                   record.source + "`");
  Progress progress(style);
  size_t task = progress.Add("convert " + record.name, 0);
  std::string tmp = store.TempPath("base");
  auto built = FlattenLayersToExt4(LayerPaths(store, record), tmp, BuildOptions{});
  if (!built.ok()) {
    ::unlink(tmp.c_str());
    progress.Finish(task, "failed");
    return std::move(built).error().WithContext("convert " + record.name + " to ext4");
  }
  std::string path = VK_TRY(store.CommitBase(tmp, record.manifest_digest, inputs));
  progress.Finish(task, "ext4 base " + Progress::FormatBytes(built->size_bytes));
  return path;
}

}  // namespace vk::image
