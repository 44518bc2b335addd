// libkrun.so.1 exports exactly the header's krun_* functions: nothing of the
// runtime linked into it leaks, and no function is missing.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "capi/header_functions_testing.h"

namespace {

using vk::capi::HeaderFunctions;

std::string RunCommand(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  std::string out;
  if (!pipe) return out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe.get())) > 0) out.append(buffer, n);
  return out;
}

TEST(ExportsTest, TheLibraryExportsExactlyTheHeaderFunctions) {
  std::string listing = RunCommand(std::string("nm -D --defined-only ") + VK_LIBKRUN_SO);
  ASSERT_FALSE(listing.empty()) << "nm printed nothing for " << VK_LIBKRUN_SO;
  std::set<std::string> exported;
  std::istringstream lines(listing);
  std::string line;
  while (std::getline(lines, line)) {
    // "ADDRESS TYPE NAME"; every export must be a function (T).
    std::istringstream fields(line);
    std::string address, type, name;
    fields >> address >> type >> name;
    EXPECT_EQ(type, "T") << line;
    exported.insert(name);
  }
  std::set<std::string> header = HeaderFunctions();
  EXPECT_EQ(header.size(), 67u);
  EXPECT_EQ(exported, header);
}

TEST(ExportsTest, TheSonameIsLibkrunSo1) {
  std::string dynamic = RunCommand(std::string("readelf -d ") + VK_LIBKRUN_SO);
  EXPECT_NE(dynamic.find("[libkrun.so.1]"), std::string::npos) << dynamic;
}

}  // namespace
