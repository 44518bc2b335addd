#include "image/image_push.h"

#include <fcntl.h>

#include <atomic>

#include "base/unique_fd.h"
#include "image/registry_client.h"

namespace vk::image {
namespace {

std::string ShortDigest(std::string_view digest) {
  return std::string(digest.substr(digest.find(':') + 1, 12));
}

// The repository on `target`'s registry the image was pulled from, if any:
// its blobs can be mounted from there instead of sent again.
std::string MountSource(const ImageRecord& record, const Reference& target) {
  auto source = ParseImageSource(record.name);
  if (!source.ok() || source->kind != SourceKind::kRegistry) return {};
  if (source->reference.registry != target.registry) return {};
  return source->reference.repository;
}

struct PushState {
  RegistryClient& client;
  Store& store;
  const ImagePushOptions& options;
  std::string mount_from;
  Progress progress;
  std::atomic<uint64_t> bytes_sent{0};
  std::atomic<int> uploaded{0}, present{0}, mounted{0};
};

Result<void> PushStoredBlob(PushState& state, const Descriptor& d) {
  if (!state.store.HasBlob(d.digest))
    return Error("blob " + d.digest + " is missing from the store (or was damaged): pull the " +
                 "image again");
  UniqueFd fd(::open(state.store.BlobPath(d.digest).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::FromErrno("open blob " + d.digest);
  size_t task = state.progress.Add(ShortDigest(d.digest), d.size);
  UploadOptions upload;
  upload.mount_from = state.mount_from;
  upload.chunk_size = state.options.chunk_size;
  upload.bytes_sent = &state.bytes_sent;
  upload.progress = [&](uint64_t done, uint64_t total) {
    state.progress.Update(task, done, total);
  };
  auto outcome =
      state.client.UploadBlob(d.digest, BlobData::FileRange(fd.get(), 0, d.size), upload);
  if (!outcome.ok()) {
    state.progress.Finish(task, "failed");
    return std::move(outcome).error();
  }
  switch (*outcome) {
    case UploadOutcome::kPresent:
      ++state.present;
      state.progress.Finish(task, "already present");
      break;
    case UploadOutcome::kMounted:
      ++state.mounted;
      state.progress.Finish(task, "mounted from " + state.mount_from);
      break;
    case UploadOutcome::kUploaded:
      ++state.uploaded;
      state.progress.Finish(task, "pushed " + Progress::FormatBytes(d.size));
      break;
  }
  return Ok();
}

}  // namespace

Result<ImagePushResult> PushImage(Store& store, const ImageRecord& record, const Reference& target,
                                  const ImagePushOptions& options) {
  std::string what = "push " + record.name + " to " + target.Canonical();
  if (!target.digest.empty() && target.digest != record.manifest_digest)
    return Error(ErrorKind::kUsage, what + ": the image's manifest is " + record.manifest_digest +
                                        ", not the digest named");
  std::string body = VK_TRY_CTX(store.ReadBlob(record.manifest_digest, kMaxManifestBytes), what);
  Manifest manifest = VK_TRY_CTX(ParseManifest(body), what);
  if (manifest.kind != ManifestKind::kManifest)
    return Error(what + ": the stored manifest is an index; push a single-platform image");
  RegistryOptions registry_options;
  registry_options.insecure = options.insecure;
  RegistryClient client(target, registry_options);
  PushState state{client, store, options, MountSource(record, target), Progress(options.progress)};
  // Layers first, config last: a registry may refuse a manifest whose
  // blobs it lacks, and nothing names the image until the manifest lands.
  std::vector<Descriptor> blobs = manifest.layers;
  VK_TRY_CTX(RunTransfers(blobs.size(), options.parallel_blobs,
                          [&](size_t i) { return PushStoredBlob(state, blobs[i]); }),
             what);
  VK_TRY_CTX(PushStoredBlob(state, manifest.config), what);
  VK_TRY_CTX(client.PushManifest(target.ManifestReference(), manifest.media_type, body), what);
  ImagePushResult result;
  result.manifest_digest = record.manifest_digest;
  result.bytes_sent = state.bytes_sent;
  result.uploaded = state.uploaded;
  result.present = state.present;
  result.mounted = state.mounted;
  return result;
}

}  // namespace vk::image
