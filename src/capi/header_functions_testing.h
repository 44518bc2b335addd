// The krun_* functions our include/libkrun.h declares, read from the header
// itself (VK_LIBKRUN_HEADER), so the tests that cover every function cannot
// fall behind it.
#pragma once

#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <string>

namespace vk::capi {

inline std::set<std::string> HeaderFunctions() {
  std::ifstream header(VK_LIBKRUN_HEADER);
  std::string text((std::istreambuf_iterator<char>(header)), std::istreambuf_iterator<char>());
  std::regex declaration(R"(\n(?:int32_t|int) (krun_[a-z0-9_]+)\()");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), declaration);
       it != std::sregex_iterator(); ++it) {
    names.insert((*it)[1]);
  }
  return names;
}

}  // namespace vk::capi
