#include "fleet/env_file.h"

#include <gtest/gtest.h>

namespace vk::fleet {
namespace {

VariableLookup Env() {
  return [](std::string_view name) -> std::optional<std::string> {
    if (name == "HOME") return "/home/u";
    return std::nullopt;
  };
}

TEST(FleetEnvFileTest, ReadsDotenvSyntax) {
  auto entries = ParseEnvFile(
      "# a comment\n"
      "\n"
      "A=1\n"
      "export B = two words \n"
      "C='single $HOME # kept'\n"
      "D=\"double\\n$HOME\"\n"
      "E=unquoted # comment\n"
      "F=${A}-${UNSET:-d}\n"
      "HOME\n"
      "MISSING\n"
      "G=\"multi\n"
      "line\"\n"
      "H=\n"
      "I=a=b\r\n",
      "app.env", Env());
  ASSERT_TRUE(entries.ok()) << entries.error().message();
  EnvEntries want = {
      {"A", "1"},        {"B", "two words"}, {"C", "single $HOME # kept"}, {"D", "double\n/home/u"},
      {"E", "unquoted"}, {"F", "1-d"},       {"HOME", "/home/u"},          {"G", "multi\nline"},
      {"H", ""},         {"I", "a=b"}};
  EXPECT_EQ(*entries, want);
}

TEST(FleetEnvFileTest, ErrorsNameFileAndLine) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"A=1\n=2\n", "app.env:2: expected KEY=VALUE"},
      {"A=1\nB=2\n3X=1\n", "app.env:3: expected KEY=VALUE"},
      {"A=1\nB x\n", "app.env:2: expected '=' after B"},
      {"A=1\nB=\"open\nstill\n", "app.env:2: unterminated \" quote"},
      {"A=1\n\nB=${X:?needed}\n", "app.env:3: required variable X is missing a value: needed"},
  };
  for (const Case& c : cases) {
    auto entries = ParseEnvFile(c.text, "app.env", Env());
    ASSERT_FALSE(entries.ok()) << c.text;
    EXPECT_NE(entries.error().message().find(c.message), std::string::npos)
        << entries.error().message();
  }
}

TEST(FleetEnvFileTest, MissingFileIsNotFound) {
  auto entries = ReadEnvFile("/nonexistent/vk-fleet.env", Env());
  ASSERT_FALSE(entries.ok());
  EXPECT_EQ(entries.error().kind(), ErrorKind::kNotFound);
  EXPECT_NE(entries.error().message().find("/nonexistent/vk-fleet.env"), std::string::npos);
}

}  // namespace
}  // namespace vk::fleet
