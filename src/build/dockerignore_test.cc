#include "build/dockerignore.h"

#include <gtest/gtest.h>

namespace vk::build {
namespace {

struct MatchCase {
  const char* path;
  bool excluded;
};

void ExpectMatches(const char* file, std::initializer_list<MatchCase> cases) {
  auto ignore = DockerIgnore::Parse(file);
  ASSERT_TRUE(ignore.ok()) << file << ": " << ignore.error().message();
  for (const MatchCase& c : cases) {
    EXPECT_EQ(ignore->Excluded(c.path), c.excluded) << "patterns:\n" << file << "path: " << c.path;
  }
}

// The examples of docker's .dockerignore documentation.
TEST(DockerfileIgnoreTest, DocumentedExamples) {
  ExpectMatches("# comment\n*/temp*\n*/*/temp*\ntemp?\n", {{"somedir/temporary.txt", true},
                                                           {"somedir/temp", true},
                                                           {"somedir/temp/inside", true},
                                                           {"somedir/subdir/temporary.txt", true},
                                                           {"tempa", true},
                                                           {"tempb", true},
                                                           {"temp", false},
                                                           {"temporary.txt", false},
                                                           {"a/b/c/temp", false},
                                                           {"# comment", false}});
  ExpectMatches("**/*.go\n", {{"main.go", true}, {"a/b/c.go", true}, {"a/go", false}});
  ExpectMatches("*.md\n!README.md\n",
                {{"CHANGES.md", true}, {"README.md", false}, {"doc/x.md", false}});
  ExpectMatches("*.md\n!README*.md\nREADME-secret.md\n",
                {{"a.md", true}, {"README-x.md", false}, {"README-secret.md", true}});
  ExpectMatches("*.md\nREADME-secret.md\n!README*.md\n",
                {{"a.md", true}, {"README-x.md", false}, {"README-secret.md", false}});
}

TEST(DockerfileIgnoreTest, DirectoriesAndCleaning) {
  ExpectMatches("node_modules\n/build/\n./docs/../tmp\n  spaced  \n",
                {{"node_modules", true},
                 {"node_modules/a/b.js", true},
                 {"src/node_modules", false},
                 {"build/out.o", true},
                 {"tmp", true},
                 {"docs", false},
                 {"spaced", true},
                 {"./node_modules//x", true},
                 {"/node_modules", true},
                 {".", false},
                 {"", false}});
  ExpectMatches("**\n!src\n", {{"anything", true}, {"src", false}, {"src/a.c", false}});
  ExpectMatches("**/node_modules\n", {{"node_modules", true}, {"a/b/node_modules/c", true}});
  ExpectMatches("a/**\n", {{"a", false}, {"a/b", true}, {"a/b/c", true}});
  ExpectMatches("a/**/b\n", {{"a/b", true}, {"a/x/y/b", true}, {"a/xb", false}});
  ExpectMatches("**.log\n", {{"x.log", true}, {"d/x.log", true}, {"log", false}});
}

TEST(DockerfileIgnoreTest, ClassesEscapesAndLiterals) {
  ExpectMatches("file[0-9].txt\n[^a]x\nlit\\*\nweird.(x)+\n", {{"file3.txt", true},
                                                               {"filea.txt", false},
                                                               {"bx", true},
                                                               {"ax", false},
                                                               {"lit*", true},
                                                               {"litx", false},
                                                               {"weird.(x)+", true},
                                                               {"weirdX(x)+", false}});
}

TEST(DockerfileIgnoreTest, ExceptionReincludesInsideExcludedDirectory) {
  auto ignore = DockerIgnore::Parse("vendor\n!vendor/keep/**\ncache\n*.tmp\n");
  ASSERT_TRUE(ignore.ok());
  EXPECT_TRUE(ignore->Excluded("vendor"));
  EXPECT_TRUE(ignore->Excluded("vendor/drop/x"));
  EXPECT_FALSE(ignore->Excluded("vendor/keep/x"));
  EXPECT_TRUE(ignore->MustWalk("vendor"));
  EXPECT_TRUE(ignore->MustWalk("src"));
  auto simple = DockerIgnore::Parse("vendor\n!vendor/keep/file\ncache\n");
  ASSERT_TRUE(simple.ok());
  EXPECT_TRUE(simple->MustWalk("vendor"));
  EXPECT_FALSE(simple->MustWalk("vendor/other"));
  EXPECT_TRUE(simple->MustWalk("vendor/keep"));
  EXPECT_FALSE(simple->MustWalk("cache"));
  EXPECT_TRUE(simple->HasExceptions());
}

TEST(DockerfileIgnoreTest, BadPatterns) {
  for (const char* file : {"!\n", "[\n", "a[]\n", "b[z-a]\n", "trailing\\\n"}) {
    auto ignore = DockerIgnore::Parse(file);
    ASSERT_FALSE(ignore.ok()) << file;
    EXPECT_EQ(ignore.error().kind(), ErrorKind::kUsage);
  }
}

TEST(DockerfileIgnoreTest, CleanPath) {
  EXPECT_EQ(CleanPath(""), ".");
  EXPECT_EQ(CleanPath("a//b/./c/.."), "a/b");
  EXPECT_EQ(CleanPath("../a/../../b"), "../../b");
  EXPECT_EQ(CleanPath("/../a"), "/a");
  EXPECT_EQ(CleanPath("/"), "/");
}

}  // namespace
}  // namespace vk::build
