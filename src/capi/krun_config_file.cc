#include "capi/krun_config_file.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <initializer_list>
#include <nlohmann/json.hpp>

#include "base/unique_fd.h"

namespace vk::capi {
namespace {

using json = nlohmann::json;

// The first of `names` that `object` has (libkrun's alternatives: "Cmd" or
// "args", ...), or null.
const json* Field(const json& object, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    auto it = object.find(name);
    if (it != object.end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

std::vector<std::string> Strings(const json* value) {
  std::vector<std::string> out;
  if (value == nullptr || !value->is_array()) return out;
  for (const json& item : *value) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

std::optional<std::string> String(const json* value) {
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return value->get<std::string>();
}

// mounts: the first {"type": "tmpfs", "source": "tmpfs"} entry's destination.
std::optional<std::string> TmpfsDestination(const json& top) {
  const json* mounts = Field(top, {"mounts"});
  if (mounts == nullptr || !mounts->is_array()) return std::nullopt;
  for (const json& mount : *mounts) {
    if (!mount.is_object()) continue;
    if (String(Field(mount, {"type"})) != "tmpfs" || String(Field(mount, {"source"})) != "tmpfs")
      continue;
    if (auto destination = String(Field(mount, {"destination"}));
        destination && !destination->empty())
      return destination;
  }
  return std::nullopt;
}

// O_RDONLY open of `path` resolved as the guest would: ".." and absolute
// symlinks stay inside `root`.
UniqueFd OpenInRootDir(const std::string& root, std::string_view path) {
  UniqueFd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return UniqueFd();
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;  // a FIFO must not hang the start
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const std::string relative(path);
  return UniqueFd(
      static_cast<int>(::syscall(SYS_openat2, dir.get(), relative.c_str(), &how, sizeof(how))));
}

}  // namespace

Result<KrunConfigFile> ParseKrunConfigFile(std::string_view text) {
  json top = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!top.is_object()) return Error("not a JSON object");
  KrunConfigFile file;
  if (const json* process = Field(top, {"process"}); process != nullptr && process->is_object()) {
    file.argv = Strings(Field(*process, {"args"}));
    file.env = Strings(Field(*process, {"env"}));
    file.workdir = String(Field(*process, {"cwd"}));
  } else {
    file.argv = Strings(Field(top, {"Entrypoint"}));
    std::vector<std::string> cmd = Strings(Field(top, {"Cmd", "args"}));
    file.argv.insert(file.argv.end(), cmd.begin(), cmd.end());
    file.env = Strings(Field(top, {"Env", "env"}));
    file.workdir = String(Field(top, {"WorkingDir", "Cwd", "cwd"}));
  }
  if (file.workdir && file.workdir->empty()) file.workdir.reset();
  file.tmpfs_at = TmpfsDestination(top);
  return file;
}

std::optional<KrunConfigFile> ReadKrunConfigFile(const std::string& root_dir,
                                                 std::string_view guest_path) {
  UniqueFd fd = OpenInRootDir(root_dir, guest_path);
  struct stat st {};
  if (!fd || ::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  std::string text;
  char buffer[16384];
  while (text.size() <= kMaxKrunConfigFileBytes) {
    const ssize_t got = ::read(fd.get(), buffer, sizeof(buffer));
    if (got < 0) return std::nullopt;
    if (got == 0) break;
    text.append(buffer, static_cast<size_t>(got));
  }
  if (text.size() > kMaxKrunConfigFileBytes) return std::nullopt;
  auto parsed = ParseKrunConfigFile(text);
  if (!parsed.ok()) return std::nullopt;
  return std::move(*parsed);
}

}  // namespace vk::capi
