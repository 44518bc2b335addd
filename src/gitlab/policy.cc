#include "gitlab/policy.h"

#include <fnmatch.h>

#include <algorithm>

#include "base/strings.h"

namespace vk::gitlab {
namespace {

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  for (std::string entry : Split(text, ',')) {
    entry.erase(0, entry.find_first_not_of(" \t"));
    entry.erase(entry.find_last_not_of(" \t") + 1);
    if (!entry.empty()) out.push_back(entry);
  }
  return out;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

bool ImageAllowed(std::string_view image, const Config& config) {
  if (!config.default_image.empty() && image == config.default_image) return true;
  if (config.allowed_images.empty()) return true;
  const std::string name(image);
  return std::any_of(config.allowed_images.begin(), config.allowed_images.end(),
                     [&name](const std::string& pattern) {
                       return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
                     });
}

bool EgressCovers(std::string_view allowed, std::string_view asked) {
  const std::string allow = Lower(allowed), ask = Lower(asked);
  if (allow == ask) return true;
  if (!allow.starts_with("*.")) return false;
  // "*.example.com" covers "a.example.com", "a.b.example.com" and
  // "*.b.example.com", never "example.com" itself nor "badexample.com".
  const std::string_view suffix = std::string_view(allow).substr(1);  // ".example.com"
  return ask.size() > suffix.size() && ask.ends_with(suffix) && ask.find('/') == std::string::npos;
}

Result<std::vector<std::string>> EgressFor(const std::vector<std::string>& admin,
                                           std::string_view asked) {
  std::vector<std::string> wanted = SplitList(asked);
  if (wanted.empty()) return admin;
  if (admin.empty()) return wanted;
  std::vector<std::string> refused;
  for (const std::string& entry : wanted) {
    bool covered = std::any_of(admin.begin(), admin.end(), [&entry](const std::string& allowed) {
      return EgressCovers(allowed, entry);
    });
    if (!covered) refused.push_back(entry);
  }
  if (!refused.empty()) {
    std::string list;
    for (const std::string& entry : refused) list += (list.empty() ? "" : ", ") + entry;
    return Error(ErrorKind::kUsage, "MICROVM_EGRESS_ALLOW asks for " + list +
                                        ", which the runner's egress policy does not allow");
  }
  return wanted;
}

}  // namespace vk::gitlab
