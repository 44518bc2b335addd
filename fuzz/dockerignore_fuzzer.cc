// Fuzzes .dockerignore parsing and matching (the file comes with the build
// context). Must never crash, and MustWalk must be sound: a directory it
// says to skip holds nothing that is not excluded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "build/dockerignore.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ignore = vk::build::DockerIgnore::Parse(text);
  if (!ignore.ok()) return 0;
  // Paths: fixed ones plus every line of the input read as a path.
  std::vector<std::string> paths = {"a", "a/b", "a/b/c.txt", "node_modules/x", ".git", "x.md"};
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(start, end - start));
    if (!line.empty() && line[0] == '!') line.erase(0, 1);
    paths.push_back(line);
    start = end + 1;
  }
  for (const std::string& path : paths) {
    bool excluded = ignore->Excluded(path);
    bool walk = ignore->MustWalk(path);
    if (!excluded && !walk) abort();
    if (!walk && (!ignore->Excluded(path + "/x") || !ignore->Excluded(path + "/x/y.md"))) abort();
  }
  return 0;
}
