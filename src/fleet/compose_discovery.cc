#include "fleet/compose_discovery.h"

#include <filesystem>

namespace vk::fleet {
namespace {

bool Exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

std::vector<std::string> SplitPaths(const std::string& list, const std::string& separator) {
  std::vector<std::string> paths;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(separator, start);
    if (end == std::string::npos) end = list.size();
    if (end > start) paths.push_back(list.substr(start, end - start));  // "a::b" has no ""
    start = end + separator.size();
  }
  return paths;
}

}  // namespace

Result<std::string> FindComposeFile(const std::string& dir) {
  for (std::string_view name : kComposeFileNames) {
    std::string path = (std::filesystem::path(dir) / name).string();
    if (Exists(path)) return path;
  }
  return Error(ErrorKind::kNotFound,
               "no compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml in " + dir +
                   ": name one with -f FILE");
}

std::optional<std::string> FindOverrideFile(const std::string& base) {
  std::filesystem::path path(base);
  std::string family =
      path.filename().string().rfind("docker-compose.", 0) == 0 ? "docker-compose" : "compose";
  for (const char* extension : {".override.yaml", ".override.yml"}) {
    std::string candidate = (path.parent_path() / (family + extension)).string();
    if (Exists(candidate)) return candidate;
  }
  return std::nullopt;
}

Result<std::vector<std::string>> ComposeFilePaths(const std::vector<std::string>& given,
                                                  const std::string& dir,
                                                  const VariableLookup& environment) {
  if (!given.empty()) return given;
  if (auto list = environment("COMPOSE_FILE"); list && !list->empty()) {
    std::string separator = environment("COMPOSE_PATH_SEPARATOR").value_or("");
    std::vector<std::string> paths = SplitPaths(*list, separator.empty() ? ":" : separator);
    if (paths.empty())
      return Error(ErrorKind::kUsage, "COMPOSE_FILE names no file: unset it or name one");
    return paths;
  }
  std::vector<std::string> paths = {VK_TRY(FindComposeFile(dir))};
  if (auto override_file = FindOverrideFile(paths.front())) paths.push_back(*override_file);
  return paths;
}

}  // namespace vk::fleet
