#include "build/shell_words.h"

#include <gtest/gtest.h>

#include <map>

namespace vk::build {
namespace {

VariableLookup Vars(std::map<std::string, std::string, std::less<>> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

struct WordCase {
  const char* input;
  const char* expected;
};

// V=val, EMPTY="", SPACED="a b", W=w; U is unset.
const VariableLookup& Sample() {
  static const VariableLookup lookup = Vars(
      {{"V", "val"}, {"EMPTY", ""}, {"SPACED", "a  b"}, {"W", "w"}, {"PATH_", "/usr/local/bin"}});
  return lookup;
}

TEST(DockerfileShellWordsTest, ExpandsLikeBuildKit) {
  const WordCase cases[] = {
      {"$V", "val"},
      {"${V}", "val"},
      {"x${V}y", "xvaly"},
      {"$U", ""},
      {"${U}", ""},
      {"${V:-x}", "val"},
      {"${U:-x}", "x"},
      {"${EMPTY:-x}", "x"},
      {"${EMPTY-x}", ""},
      {"${U-x}", "x"},
      {"${V:+x}", "x"},
      {"${EMPTY:+x}", ""},
      {"${EMPTY+x}", "x"},
      {"${U+x}", ""},
      {"${U:-${W}}", "w"},
      {"${U:-${U2:-deep}}", "deep"},
      {"${U:-a b}", "a b"},
      {"\\$V", "$V"},
      {"\\${V}", "${V}"},
      {"'$V'", "$V"},
      {"\"$V\"", "val"},
      {"\"a\\\"b\"", "a\"b"},
      {"\"a\\nb\"", "a\\nb"},  // only \" \$ \\ are escapes inside double quotes
      {"a\\ b", "a b"},
      {"$", "$"},
      {"a$", "a$"},
      {"$1", ""},
      {"${PATH_#*/}", "usr/local/bin"},
      {"${PATH_##*/}", "bin"},
      {"${PATH_%/*}", "/usr/local"},
      {"${PATH_%%/l*}", "/usr"},
      {"${PATH_/local/opt}", "/usr/opt/bin"},
      {"${PATH_//\\//:}", ":usr:local:bin"},
      {"${V:?}", "val"},
      {"trailing\\", "trailing"},
  };
  for (const WordCase& c : cases) {
    auto result = ExpandWord(c.input, Sample());
    ASSERT_TRUE(result.ok()) << c.input << ": " << result.error().message();
    EXPECT_EQ(*result, c.expected) << c.input;
  }
}

TEST(DockerfileShellWordsTest, BacktickEscape) {
  ShellWordOptions options;
  options.escape = '`';
  EXPECT_EQ(*ExpandWord("C:\\dir`$V", Sample(), options), "C:\\dir$V");
  EXPECT_EQ(*ExpandWord("\"a`\"b\"", Sample(), options), "a\"b");
}

TEST(DockerfileShellWordsTest, Errors) {
  const char* bad[] = {"${V",        "${}",     "${:x}", "${V:x}",
                       "'open",      "\"open",  "${U?}", "${U:?must be set}",
                       "${EMPTY:?}", "${V:#x}", "${V/x"};
  for (const char* input : bad) {
    auto result = ExpandWord(input, Sample());
    ASSERT_FALSE(result.ok()) << input;
    EXPECT_EQ(result.error().kind(), ErrorKind::kUsage) << input;
  }
  EXPECT_NE(ExpandWord("${U:?must be set}", Sample()).error().message().find("U: must be set"),
            std::string::npos);
}

TEST(DockerfileShellWordsTest, DeepNestingIsAnErrorNotACrash) {
  std::string word;
  for (int i = 0; i < 500; ++i) word += "${U:-";
  word += "x";
  for (int i = 0; i < 500; ++i) word += "}";
  EXPECT_FALSE(ExpandWord(word, Sample()).ok());
}

TEST(DockerfileShellWordsTest, WordsSplitUnquotedValues) {
  EXPECT_EQ(*ExpandWords("a $SPACED \"$SPACED\" 'x y'", Sample()),
            (std::vector<std::string>{"a", "a", "b", "a  b", "x y"}));
  EXPECT_EQ(*ExpandWords("  ", Sample()), std::vector<std::string>{});
}

TEST(DockerfileShellWordsTest, SkipUnsetKeepsText) {
  ShellWordOptions options;
  options.skip_unset = true;
  EXPECT_EQ(*ExpandWord("$U ${U} ${U:-x} $V", Sample(), options), "$U ${U} ${U:-x} val");
}

}  // namespace
}  // namespace vk::build
