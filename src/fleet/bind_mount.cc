#include "fleet/bind_mount.h"

#include <cstdlib>
#include <filesystem>

#include "base/strings.h"

namespace vk::fleet {

bool IsHostPath(std::string_view source) {
  return !source.empty() && (source[0] == '/' || source[0] == '.' || source[0] == '~');
}

Error VolumeNotSupported(std::string_view name) {
  std::string what = name.empty() ? std::string("anonymous volumes")
                                  : "named volumes (\"" + std::string(name) + "\")";
  return Error(ErrorKind::kUsage, what +
                                      " are not supported yet: bind-mount a host directory "
                                      "instead, e.g. ./data:/var/lib/data");
}

std::string ResolveHostPath(std::string_view path, const std::string& base) {
  std::filesystem::path resolved;
  if (path == "~" || StartsWith(path, "~/")) {
    const char* home = std::getenv("HOME");
    resolved = std::filesystem::path(home ? home : "/") /
               std::string(path.substr(path.size() > 1 ? 2 : 1));
  } else if (!path.empty() && path[0] == '/') {
    resolved = std::string(path);
  } else {
    resolved = std::filesystem::path(base) / std::string(path);
  }
  std::string text = resolved.lexically_normal().string();
  if (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

Result<BindMount> ParseBindMount(std::string_view text, const std::string& project_dir) {
  std::vector<std::string> parts = Split(text, ':');
  if (parts.size() == 1) return VolumeNotSupported("");
  if (parts.size() > 3) {
    return Error(ErrorKind::kUsage,
                 "invalid volume \"" + std::string(text) + "\": write HOST:GUEST[:ro]");
  }
  if (!IsHostPath(parts[0])) return VolumeNotSupported(parts[0]);
  BindMount mount;
  mount.source = ResolveHostPath(parts[0], project_dir);
  mount.target = parts[1];
  if (mount.target.empty() || mount.target[0] != '/') {
    return Error(ErrorKind::kUsage,
                 "invalid volume \"" + std::string(text) + "\": the guest path must be absolute");
  }
  if (parts.size() == 3) {
    for (const std::string& option : Split(parts[2], ',')) {
      if (option == "ro") {
        mount.read_only = true;
      } else if (option == "rw") {
        mount.read_only = false;
      } else if (option != "z" && option != "Z" && option != "cached" && option != "delegated" &&
                 option != "consistent" && option != "nocopy" &&
                 option.find("shared") == std::string::npos &&
                 option.find("slave") == std::string::npos &&
                 option.find("private") == std::string::npos) {
        return Error(ErrorKind::kUsage, "invalid volume option \"" + option + "\" in \"" +
                                            std::string(text) + "\": use ro or rw");
      }
    }
  }
  return mount;
}

}  // namespace vk::fleet
