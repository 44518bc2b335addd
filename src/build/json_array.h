// The exec form of RUN/CMD/ENTRYPOINT/SHELL/COPY/ADD/VOLUME: a JSON array of
// strings. Docker decides by parsing the whole argument as JSON: text that is
// not valid JSON is the shell form, a valid array with a non-string element is
// an error. Our own small parser (the build module depends on base only).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vk::build {

enum class JsonArrayKind {
  kNotJsonArray,  // not JSON, or JSON that is not an array: use the shell form
  kStrings,       // ["a", "b"]: the exec form
  kNotStrings,    // [1, "a"]: an error ("arrays must be comprised of strings only")
};

struct JsonArray {
  JsonArrayKind kind = JsonArrayKind::kNotJsonArray;
  std::vector<std::string> strings;
};

JsonArray ParseJsonArray(std::string_view text);

}  // namespace vk::build
