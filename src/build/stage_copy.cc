// COPY and ADD steps of a stage (stage_builder.h).
#include <fcntl.h>
#include <unistd.h>

#include "base/fd_io.h"
#include "base/unique_fd.h"
#include "build/add_sources.h"
#include "build/stage_builder.h"
#include "build/stage_graph.h"
#include "image/pull.h"

namespace vk::build {
namespace {

bool SeveralSources(const std::vector<std::string>& sources, size_t inline_count) {
  return sources.size() + inline_count > 1;
}

Result<void> Unsupported(bool used, std::string_view flag) {
  if (!used) return Ok();
  return Error(ErrorKind::kUsage, std::string(flag) +
                                      " is not implemented by vk build; select the files "
                                      "with the source paths and .dockerignore instead");
}

}  // namespace

// An earlier stage's key, or the manifest of the image `ref` names: what
// a --from source's contents follow from.
Result<std::string> StageBuilder::FromKey(const std::string& ref) {
  std::optional<size_t> stage = VK_TRY(StageReference(s_.dockerfile, ref));
  if (stage) return "stage:" + s_.Stage(*stage).key;
  image::ImageRecord record =
      VK_TRY(image::ResolveImage(s_.store, ref, image::PullPolicy::kMissing, {}));
  return "image:" + record.manifest_digest;
}

// The files of an earlier stage or of an image (indexed once per build).
Result<StageFiles*> StageBuilder::FromFiles(const std::string& ref) {
  std::optional<size_t> stage = VK_TRY(StageReference(s_.dockerfile, ref));
  if (stage) return s_.StageFilesOf(*stage);
  image::ImageRecord record =
      VK_TRY(image::ResolveImage(s_.store, ref, image::PullPolicy::kMissing, {}));
  return s_.ImageFilesOf(record);
}

// Heredoc sources (COPY <<EOF /file) become files in the work directory.
Result<std::vector<SourceMatch>> StageBuilder::InlineSources(
    const std::vector<InlineSource>& sources) {
  std::vector<SourceMatch> matches;
  if (sources.empty()) return matches;
  std::string dir = VK_TRY(s_.MakeWorkDir("inline"));
  for (size_t i = 0; i < sources.size(); ++i) {
    std::string path = dir + "/" + std::to_string(i);
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd) return Error::FromErrno("create " + path);
    VK_TRY(WriteAll(fd.get(), sources[i].data));
    SourceMatch match;
    match.name = sources[i].name;
    image::EntryMeta meta;
    meta.permissions = 0644;
    meta.size = sources[i].data.size();
    match.files.push_back(SourceFile{"", meta, path});
    matches.push_back(std::move(match));
  }
  return matches;
}

// The sources' part of the key: the selected files' digest for the
// context; the source stage's key or the image's manifest for --from (their
// contents follow from those).
Result<std::string> StageBuilder::CopyKey(const CopyInstruction& copy) {
  VK_TRY(Unsupported(copy.parents, "COPY --parents"));
  VK_TRY(Unsupported(!copy.excludes.empty(), "COPY --exclude"));
  if (!copy.from.empty()) return FromKey(copy.from).Context("COPY --from=" + copy.from);
  prepared_.clear();
  for (const std::string& source : copy.sources) {
    auto matches = VK_TRY(s_.context.Select(source));
    prepared_.insert(prepared_.end(), matches.begin(), matches.end());
  }
  return "context:" + VK_TRY(DigestSources(prepared_));
}

Result<std::string> StageBuilder::AddKey(const AddInstruction& add) {
  VK_TRY(Unsupported(!add.excludes.empty(), "ADD --exclude"));
  VK_TRY(Unsupported(add.keep_git_dir.has_value(), "ADD --keep-git-dir"));
  prepared_.clear();
  std::string key;
  for (const std::string& source : add.sources) {
    if (IsUrl(source) && !add.checksum.empty()) {
      key += "url:" + source + "@" + add.checksum + ";";
      continue;
    }
    if (IsUrl(source)) {  // no checksum: the content decides, so fetch it now
      std::string dir = VK_TRY(s_.MakeWorkDir("download"));
      prepared_.push_back(VK_TRY(DownloadSource(source, "", dir)));
      continue;
    }
    auto matches = VK_TRY(s_.context.Select(source));
    prepared_.insert(prepared_.end(), matches.begin(), matches.end());
  }
  return key + "files:" + VK_TRY(DigestSources(prepared_));
}

Result<void> StageBuilder::Copy(const CopyInstruction& copy) {
  CopyRequest request;
  if (!copy.from.empty()) {
    StageFiles* files = VK_TRY(FromFiles(copy.from));
    for (const std::string& source : copy.sources) {
      // A directory per source: each Select numbers its extracted files from 0.
      std::string dir = VK_TRY(s_.MakeWorkDir("from"));
      auto matches = VK_TRY(files->Select(source, dir).Context("COPY --from=" + copy.from));
      request.matches.insert(request.matches.end(), matches.begin(), matches.end());
    }
  } else {
    request.matches = prepared_;
  }
  auto inline_matches = VK_TRY(InlineSources(copy.inline_sources));
  request.matches.insert(request.matches.end(), inline_matches.begin(), inline_matches.end());
  request.destination = copy.destination;
  request.several_sources = SeveralSources(copy.sources, copy.inline_sources.size());
  return CommitCopy(std::move(request), copy.chown, copy.chmod);
}

Result<void> StageBuilder::Add(const AddInstruction& add) {
  CopyRequest request;
  std::string dir = VK_TRY(s_.MakeWorkDir("add"));
  for (const std::string& source : add.sources) {
    if (IsUrl(source) && !add.checksum.empty())
      request.matches.push_back(VK_TRY(DownloadSource(source, add.checksum, dir)));
  }
  bool unpack = add.unpack.value_or(true);
  for (SourceMatch& match : prepared_) {
    std::optional<SourceMatch> unpacked;
    // Downloads (no host path under the context) are never unpacked.
    if (unpack && !match.directory &&
        match.files.front().host_path.rfind(s_.context.root(), 0) == 0)
      unpacked = VK_TRY(UnpackArchive(match.files.front(), dir));
    request.matches.push_back(unpacked ? std::move(*unpacked) : std::move(match));
  }
  auto inline_matches = VK_TRY(InlineSources(add.inline_sources));
  request.matches.insert(request.matches.end(), inline_matches.begin(), inline_matches.end());
  request.destination = add.destination;
  request.several_sources = SeveralSources(add.sources, add.inline_sources.size());
  return CommitCopy(std::move(request), add.chown, add.chmod);
}

Result<void> StageBuilder::CommitCopy(CopyRequest request, const std::string& chown,
                                      const std::string& chmod) {
  StageFiles* files = VK_TRY(state_.Files(s_.store));
  request.workdir = state_.snapshot.config.working_dir;
  if (!chown.empty()) request.owner = VK_TRY(ResolveChown(chown, *files));
  if (!chmod.empty()) request.mode = VK_TRY(ParseChmod(chmod));
  LayerTar layer;
  VK_TRY(PlanCopy(request, *files, layer));
  return CommitLayer(layer);
}

}  // namespace vk::build
