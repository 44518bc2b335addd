#include "build/copy_plan.h"

#include "base/strings.h"
#include "build/path_parts.h"

namespace vk::build {
namespace {

// A passwd or group file read for --chown; bigger ones are not plausible.
constexpr size_t kMaxAccountFileBytes = 4 << 20;

std::string Child(const std::string& dir, const std::string& name) {
  if (name.empty()) return dir;
  return dir.empty() ? name : dir + "/" + name;
}

// The stage's own entry for an existing directory, so the layer repeats its
// metadata instead of inventing one.
void AddDirectory(const std::string& path, const image::Inode* existing,
                  const std::optional<CopyOwner>& owner, LayerTar& layer) {
  if (path.empty() || layer.entries().count(path)) return;
  LayerEntry entry;
  entry.meta.type = image::FileType::kDirectory;
  entry.meta.permissions = 0755;
  if (existing != nullptr && existing->type == image::FileType::kDirectory) {
    entry.meta.permissions = existing->permissions;
    entry.meta.uid = existing->uid;
    entry.meta.gid = existing->gid;
    entry.meta.mtime_sec = existing->mtime_sec;
    entry.meta.mtime_nsec = existing->mtime_nsec;
    entry.meta.xattrs = existing->xattrs;
  } else if (owner) {
    entry.meta.uid = owner->uid;
    entry.meta.gid = owner->gid;
  }
  layer.Add(path, std::move(entry));
}

void AddParents(const std::string& path, StageFiles& stage, const std::optional<CopyOwner>& owner,
                LayerTar& layer) {
  std::vector<std::string> parts = CleanParts(path);
  std::vector<std::string> prefix;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    prefix.push_back(parts[i]);
    std::string dir = JoinParts(prefix);
    AddDirectory(dir, stage.Lookup(dir, StageFiles::Last::kNoFollow), owner, layer);
  }
}

LayerEntry EntryFor(const SourceFile& file, const CopyRequest& request) {
  LayerEntry entry;
  entry.meta = file.meta;
  if (request.owner) {
    entry.meta.uid = request.owner->uid;
    entry.meta.gid = request.owner->gid;
  }
  if (request.mode && file.meta.type != image::FileType::kSymlink)
    entry.meta.permissions = *request.mode;
  if (file.meta.type == image::FileType::kRegular && !file.host_path.empty()) {
    entry.data = LayerData::kHostFile;
    entry.host_path = file.host_path;
  }
  return entry;
}

// The destination directory as the stage resolves it (symlinked parents
// such as /lib -> usr/lib followed), relative to the root.
std::string ResolvedDestination(const std::string& absolute, StageFiles& stage) {
  std::vector<std::string> parts = CleanParts(absolute);
  if (parts.empty()) return {};
  std::string leaf = parts.back();
  parts.pop_back();
  return Child(stage.Resolve(JoinParts(parts)), leaf);
}

Result<void> CopyMatch(const SourceMatch& match, const std::string& dest, bool into_dir,
                       const CopyRequest& request, StageFiles& stage, LayerTar& layer) {
  if (match.directory) {
    // A directory's contents go to dest, which becomes a directory. BuildKit
    // (fsutil's copy with CopyDirContents) makes a missing dest like any
    // parent, 0755 and the --chown owner: the source directory's own mode,
    // owner and --chmod are not given to it. An existing one keeps its own.
    AddParents(dest, stage, request.owner, layer);
    AddDirectory(dest, stage.Lookup(dest), request.owner, layer);
    for (size_t i = 1; i < match.files.size(); ++i) {
      const SourceFile& file = match.files[i];
      layer.Add(Child(dest, file.rel), EntryFor(file, request));
    }
    return Ok();
  }
  std::string target = into_dir ? Child(dest, match.name) : dest;
  if (target.empty())
    return Error(ErrorKind::kUsage, "cannot copy the file " + match.name + " onto /");
  AddParents(target, stage, request.owner, layer);
  if (into_dir) AddDirectory(dest, stage.Lookup(dest), request.owner, layer);
  layer.Add(target, EntryFor(match.files.front(), request));
  return Ok();
}

std::optional<std::string> FindField(const std::string& file, std::string_view name, size_t want) {
  for (const std::string& line : Split(file, '\n')) {
    std::vector<std::string> fields = Split(line, ':');
    if (fields.size() > want && fields[0] == name) return fields[want];
  }
  return std::nullopt;
}

Result<uint32_t> AccountId(std::string_view text, const std::optional<std::string>& file,
                           std::string_view what, size_t field) {
  if (auto number = ParseUint(text); number && *number < 0xffffffffULL)
    return static_cast<uint32_t>(*number);
  std::optional<std::string> id = file ? FindField(*file, text, field) : std::nullopt;
  auto number = id ? ParseUint(*id) : std::nullopt;
  if (!number || *number >= 0xffffffffULL)
    return Error(ErrorKind::kUsage, "--chown: no " + std::string(what) + " \"" + std::string(text) +
                                        "\" in the stage's /etc/" +
                                        (what == "user" ? "passwd" : "group") +
                                        "; use a number or add it first");
  return static_cast<uint32_t>(*number);
}

}  // namespace

Result<uint32_t> ParseChmod(std::string_view text) {
  auto mode = ParseUint(text, 8);
  if (!mode || *mode > 07777)
    return Error(ErrorKind::kUsage, "--chmod=" + std::string(text) +
                                        " is not an octal mode; write it like --chmod=0755");
  return static_cast<uint32_t>(*mode);
}

Result<CopyOwner> ResolveChown(std::string_view text, StageFiles& stage) {
  size_t colon = text.find(':');
  std::string_view user = text.substr(0, colon);
  std::optional<std::string_view> group;
  if (colon != std::string_view::npos) group = text.substr(colon + 1);
  if (user.empty()) return Error(ErrorKind::kUsage, "--chown needs a user: --chown=USER[:GROUP]");
  bool numeric_user = ParseUint(user).has_value();
  bool numeric_group = !group || ParseUint(*group).has_value();
  std::optional<std::string> passwd, groups;
  if (!numeric_user || !group) passwd = VK_TRY(stage.ReadFile("/etc/passwd", kMaxAccountFileBytes));
  if (!numeric_group) groups = VK_TRY(stage.ReadFile("/etc/group", kMaxAccountFileBytes));
  CopyOwner owner;
  owner.uid = VK_TRY(AccountId(user, passwd, "user", 2));
  if (group) {
    owner.gid = VK_TRY(AccountId(*group, groups, "group", 2));
  } else if (numeric_user) {
    owner.gid = owner.uid;  // docker: --chown=1000 means 1000:1000
  } else {
    owner.gid = VK_TRY(AccountId(user, passwd, "user", 3));
  }
  return owner;
}

Result<void> PlanCopy(const CopyRequest& request, StageFiles& stage, LayerTar& layer) {
  const std::string& written = request.destination;
  std::string absolute = !written.empty() && written[0] == '/'
                             ? written
                             : (request.workdir.empty() ? "/" : request.workdir) + "/" + written;
  bool slash = !written.empty() && (written.back() == '/' || written == "." ||
                                    written.ends_with("/.") || written == "..");
  // BuildKit refuses several source arguments into a non-directory; a
  // wildcard that matches several files copies them into it.
  bool several = request.several_sources || request.matches.size() > 1;
  if (request.several_sources && !slash)
    return Error(ErrorKind::kUsage,
                 "when using COPY with more than one source file, the destination must be a "
                 "directory and end with a /");
  std::string dest = ResolvedDestination(absolute, stage);
  const image::Inode* existing = stage.Lookup(dest);
  bool into_dir =
      slash || several || (existing != nullptr && existing->type == image::FileType::kDirectory);
  bool any_directory = false;
  for (const SourceMatch& match : request.matches) any_directory |= match.directory;
  // A destination used as a directory that is a symlink in the stage (/lib
  // -> usr/lib) is where the files go; the link itself stays.
  if (into_dir || any_directory) dest = stage.Resolve(dest);
  for (const SourceMatch& match : request.matches)
    VK_TRY(CopyMatch(match, dest, into_dir, request, stage, layer));
  return Ok();
}

}  // namespace vk::build
