#include "capi/rlimit_spec.h"

#include <string>

#include "base/strings.h"

namespace vk::capi {
namespace {

Error Malformed(std::string_view text, std::string_view why) {
  return Error("rlimit '" + std::string(text) + "': " + std::string(why) +
                   " (want RESOURCE=CUR:MAX, e.g. 7=1024:4096)",
               EINVAL);
}

}  // namespace

Result<Rlimit> ParseRlimit(std::string_view text) {
  // The resource ends at the first '=' or ':'; CUR:MAX follow.
  size_t id_end = text.find_first_of("=:");
  if (id_end == std::string_view::npos) return Malformed(text, "no '=' after the resource");
  std::string_view rest = text.substr(id_end + 1);
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return Malformed(text, "no ':' between CUR and MAX");
  auto resource = ParseUint(text.substr(0, id_end));
  auto cur = ParseUint(rest.substr(0, colon));
  auto max = ParseUint(rest.substr(colon + 1));
  if (!resource || !cur || !max) return Malformed(text, "not three decimal numbers");
  if (*resource >= kRlimitCount) return Malformed(text, "no such RLIMIT_* number");
  if (*cur > *max) return Malformed(text, "CUR is above MAX");
  return Rlimit{static_cast<uint32_t>(*resource), *cur, *max};
}

}  // namespace vk::capi
