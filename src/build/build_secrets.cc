#include "build/build_secrets.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

#include "base/fd_io.h"
#include "base/file_io.h"
#include "base/remove_tree.h"
#include "base/strings.h"
#include "runtime/mount_spec.h"

namespace vk::build {
namespace {

constexpr uint32_t kDefaultSecretMode = 0400;  // BuildKit's

Error Usage(std::string message) { return Error(ErrorKind::kUsage, std::move(message)); }

// id=, else source= (run_mount.cc refuses both), else the target's name.
std::string SecretId(const Mount& mount) {
  if (!mount.id.empty()) return mount.id;
  if (!mount.source.empty()) return mount.source;
  return mount.target.substr(mount.target.rfind('/') + 1);
}

Result<std::string> SecretBytes(const std::string& id, const SecretSource& source) {
  if (source.env.empty()) {
    auto bytes = ReadFileBytes(source.path, kMaxSecretBytes);
    if (!bytes.ok())
      return Usage("secret " + id + ": " + bytes.error().message() + " (--secret id=" + id +
                   ",src=FILE names a readable file of at most " + std::to_string(kMaxSecretBytes) +
                   " bytes)");
    return std::string(bytes->begin(), bytes->end());
  }
  const char* value = std::getenv(source.env.c_str());
  if (value == nullptr)
    return Usage("secret " + id + ": the environment variable " + source.env + " is not set");
  if (std::strlen(value) > kMaxSecretBytes)
    return Usage("secret " + id + ": larger than " + std::to_string(kMaxSecretBytes) + " bytes");
  return std::string(value);
}

// The guest sees the host file's owner (virtio-fs passes it through): only
// root can give it another.
Result<void> SetOwner(int fd, const Mount& mount, const std::string& id) {
  if (::geteuid() == 0) {
    if (::fchown(fd, mount.uid.value_or(0), mount.gid.value_or(0)) != 0)
      return Error::FromErrno("secret " + id + ": set its owner");
    return Ok();
  }
  if ((mount.uid && *mount.uid != ::geteuid()) || (mount.gid && *mount.gid != ::getegid()))
    return Usage("secret " + id +
                 ": uid= and gid= need vk build to run as root (the guest sees the owner the "
                 "secret's host copy has); leave them out to read it as root in the RUN");
  return Ok();
}

Result<void> WriteSecretFile(const std::string& path, const std::string& bytes, const Mount& mount,
                             const std::string& id) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return Error::FromErrno("create " + path);
  VK_TRY(WriteAll(fd.get(), bytes).Context("write " + path));
  if (::fchmod(fd.get(), mount.mode.value_or(kDefaultSecretMode)) != 0)
    return Error::FromErrno("secret " + id + ": set its mode");
  return SetOwner(fd.get(), mount, id);
}

// A new private directory (mkdtemp: 0700) for one RUN's secrets, in
// $XDG_RUNTIME_DIR (a tmpfs of the user's) when there is one: never in the
// image store. Returns {parent, directory}.
Result<std::pair<std::string, std::string>> MakeSecretDir() {
  namespace fs = std::filesystem;
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  std::error_code error;
  fs::path base = runtime && *runtime ? fs::path(runtime) : fs::temp_directory_path(error);
  if (error) return Error("find a directory for build secrets: " + error.message());
  std::string pattern = (base / "vk-secrets.XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return Error::FromErrno("create " + pattern);
  return std::make_pair(base.string(), pattern);
}

}  // namespace

std::string SecretTarget(const Mount& mount) {
  if (!mount.target.empty()) return mount.target;
  if (mount.env) return "";
  return "/run/secrets/" + SecretId(mount);
}

Result<std::pair<std::string, SecretSource>> ParseSecretFlag(std::string_view text) {
  std::string id, type;
  SecretSource source;
  for (const std::string& field : Split(text, ',')) {
    const size_t eq = field.find('=');
    const std::string key = field.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : field.substr(eq + 1);
    if (eq == std::string::npos || value.empty())
      return Usage("--secret " + std::string(text) + ": " + field + " is not KEY=VALUE");
    if (key == "id") {
      id = value;
    } else if (key == "src" || key == "source") {
      source.path = value;
    } else if (key == "env") {
      source.env = value;
    } else if (key == "type" && (value == "file" || value == "env")) {
      type = value;
    } else {
      return Usage("--secret " + std::string(text) + ": unexpected " + field +
                   " (use id=ID,src=FILE or id=ID,env=VARIABLE)");
    }
  }
  if (id.empty()) return Usage("--secret " + std::string(text) + ": give id=ID");
  if (!source.path.empty() && !source.env.empty())
    return Usage("--secret " + std::string(text) + ": give src= or env=, not both");
  if (type == "env" && source.env.empty()) std::swap(source.env, source.path);
  if (source.path.empty() && source.env.empty()) {
    // BuildKit: a bare id names a variable if one is set, else a file.
    (type != "file" && std::getenv(id.c_str()) != nullptr ? source.env : source.path) = id;
  }
  return std::make_pair(id, source);
}

struct StagedSecrets::Dir {
  Dir(std::string root, std::string path) : root(std::move(root)), path(std::move(path)) {}
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  ~Dir() { (void)RemoveTreeWithin(root, path); }
  std::string root, path;  // path inside root (RemoveTreeWithin)
};

StagedSecrets::StagedSecrets() = default;
StagedSecrets::StagedSecrets(StagedSecrets&&) noexcept = default;
StagedSecrets& StagedSecrets::operator=(StagedSecrets&&) noexcept = default;
StagedSecrets::~StagedSecrets() = default;

Result<StagedSecrets> StageSecrets(const std::vector<Mount>& mounts, const SecretMap& secrets) {
  StagedSecrets staged;
  for (const Mount& mount : mounts) {
    if (mount.type != MountType::kSecret) continue;
    const std::string id = SecretId(mount);
    auto given = secrets.find(id);
    if (given == secrets.end()) {
      if (!mount.required) continue;  // BuildKit runs the step without it
      return Usage("secret " + id + " is required: pass it with --secret id=" + id +
                   ",src=FILE (or env=VARIABLE)");
    }
    const std::string bytes = VK_TRY(SecretBytes(id, given->second));
    if (mount.env) {
      if (bytes.find('\0') != std::string::npos)
        return Usage("secret " + id + ": holds a NUL byte, which env=" + *mount.env +
                     " cannot carry");
      staged.env.push_back(*mount.env + "=" + bytes);
    }
    const std::string target = SecretTarget(mount);
    if (target.empty()) continue;
    VK_TRY(CheckGuestMountPath(target, "RUN --mount=type=secret,id=" + id + ": target"));
    if (!staged.dir_) {
      auto [root, path] = VK_TRY(MakeSecretDir());
      staged.dir_ = std::make_unique<StagedSecrets::Dir>(root, path);
      staged.shares.push_back({path, kSecretsGuestDir, true});
    }
    const std::string name = std::to_string(staged.binds.size());
    VK_TRY(WriteSecretFile(staged.dir_->path + "/" + name, bytes, mount, id));
    staged.binds.push_back({std::string(kSecretsGuestDir) + "/" + name, target, true});
  }
  return staged;
}

}  // namespace vk::build
