#include "build/dockerfile_lexer.h"

#include <gtest/gtest.h>

namespace vk::build {
namespace {

struct LexCase {
  const char* name;
  const char* input;
  std::vector<std::string> texts;
  std::vector<LineRange> ranges;
};

TEST(DockerfileLexerTest, LogicalLines) {
  const LexCase cases[] = {
      {"plain", "FROM a\nRUN b\n", {"FROM a", "RUN b"}, {{1, 1}, {2, 2}}},
      {"comments and blanks", "# c\n\n  # indented\nFROM a\n\n", {"FROM a"}, {{4, 4}}},
      {"continuation", "RUN a \\\n  b \\\n  c\n", {"RUN a   b   c"}, {{1, 3}}},
      {"blanks after escape", "RUN a \\  \t\nb\n", {"RUN a b"}, {{1, 2}}},
      {"comment inside continuation", "RUN a \\\n# note\n  b\n", {"RUN a   b"}, {{1, 3}}},
      {"empty continuation line", "RUN a \\\n\n  b\n", {"RUN a   b"}, {{1, 3}}},
      {"continuation at EOF", "FROM a\nRUN a \\", {"FROM a", "RUN a "}, {{1, 1}, {2, 2}}},
      {"continuation at EOF after newline", "RUN a \\\n", {"RUN a "}, {{1, 1}}},
      {"escaped escape ends the line",
       "RUN echo \\\\\nRUN b",
       {"RUN echo \\\\", "RUN b"},
       {{1, 1}, {2, 2}}},
      {"CRLF", "FROM a\r\nRUN a \\\r\n b\r\n", {"FROM a", "RUN a  b"}, {{1, 1}, {2, 3}}},
      {"BOM",
       "\xEF\xBB\xBF"
       "FROM a\n",
       {"FROM a"},
       {{1, 1}}},
      {"lone escape line", "RUN a \\\n\\\nb\n", {"RUN a b"}, {{1, 3}}},
  };
  for (const LexCase& c : cases) {
    auto lexed = LexDockerfile(c.input, "Dockerfile");
    ASSERT_TRUE(lexed.ok()) << c.name << ": " << lexed.error().message();
    ASSERT_EQ(lexed->lines.size(), c.texts.size()) << c.name;
    for (size_t i = 0; i < c.texts.size(); ++i) {
      EXPECT_EQ(lexed->lines[i].text, c.texts[i]) << c.name;
      EXPECT_EQ(lexed->lines[i].lines, c.ranges[i]) << c.name << " line " << i;
    }
  }
}

// BuildKit's parser testfile "continueIndent": how blanks around
// continuations, lone escapes, empty and comment lines join.
TEST(DockerfileLexerTest, ContinuationIndentLikeBuildKit) {
  auto lexed = LexDockerfile(
      "FROM ubuntu:14.04\n\nRUN echo hello\\\n  world\\\n  goodnight  \\\n  moon\\\n"
      "  light\\\nning\nRUN echo hello  \\\n  world\nRUN echo hello  \\\nworld\n"
      "RUN echo hello \\\ngoodbye\\\nfrog\nRUN echo hello  \\  \nworld\n"
      "RUN echo hi \\\n \\\n world \\\n\\\n good\\\n\\\nnight\n"
      "RUN echo hello \\\n# this is a comment\n\n# a comment with a blank line around it\n\n"
      "this is some more useful stuff\n",
      "Dockerfile");
  ASSERT_TRUE(lexed.ok()) << lexed.error().message();
  std::vector<std::string> texts;
  for (const LogicalLine& line : lexed->lines) texts.push_back(line.text);
  EXPECT_EQ(texts,
            (std::vector<std::string>{
                "FROM ubuntu:14.04", "RUN echo hello  world  goodnight    moon  lightning",
                "RUN echo hello    world", "RUN echo hello  world", "RUN echo hello goodbyefrog",
                "RUN echo hello  world", "RUN echo hi   world  goodnight",
                "RUN echo hello this is some more useful stuff"}));
}

TEST(DockerfileLexerTest, EmptyContinuationWarns) {
  auto lexed = LexDockerfile("FROM a\nRUN a \\\n\n b\n", "Dockerfile");
  ASSERT_TRUE(lexed.ok());
  ASSERT_EQ(lexed->warnings.size(), 1u);
  EXPECT_EQ(lexed->warnings[0].line, 4);
}

TEST(DockerfileLexerTest, Directives) {
  auto lexed = LexDockerfile(
      "# syntax=docker/dockerfile:1\n# Escape = `\n#check=skip=all\nFROM a\n", "Dockerfile");
  ASSERT_TRUE(lexed.ok()) << lexed.error().message();
  EXPECT_EQ(lexed->directives.syntax, "docker/dockerfile:1");
  EXPECT_EQ(lexed->directives.escape, '`');
  EXPECT_EQ(lexed->directives.check, "skip=all");
}

TEST(DockerfileLexerTest, DirectivesOnlyAtTheTop) {
  // After a comment, an empty line or an instruction, `# escape=` is a comment.
  for (const char* input : {"# hello\n# escape=`\nFROM a\n", "\n# escape=`\nFROM a\n",
                            "FROM a\n# escape=`\n", "# unknown=x\n# escape=`\nFROM a\n"}) {
    auto lexed = LexDockerfile(input, "Dockerfile");
    ASSERT_TRUE(lexed.ok());
    EXPECT_EQ(lexed->directives.escape, '\\') << input;
  }
}

TEST(DockerfileLexerTest, BacktickEscapeOnWindowsStyleFile) {
  auto lexed = LexDockerfile(
      "# escape=`\r\nFROM windows\r\nCOPY testfile.txt c:\\\r\nRUN dir c:\\ `\r\n  /s\r\n",
      "Dockerfile");
  ASSERT_TRUE(lexed.ok()) << lexed.error().message();
  ASSERT_EQ(lexed->lines.size(), 3u);
  EXPECT_EQ(lexed->lines[1].text, "COPY testfile.txt c:\\");
  EXPECT_EQ(lexed->lines[2].text, "RUN dir c:\\   /s");
  EXPECT_EQ(lexed->lines[2].lines, (LineRange{4, 5}));
}

TEST(DockerfileLexerTest, DirectiveErrors) {
  auto twice = LexDockerfile("# escape=`\n# escape=\\\nFROM a\n", "Dockerfile");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().message().rfind("Dockerfile:2: only one escape parser directive", 0), 0u)
      << twice.error().message();
  auto bad = LexDockerfile("# escape=x\nFROM a\n", "Dockerfile");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind(), ErrorKind::kUsage);
  EXPECT_EQ(bad.error().message().rfind("Dockerfile:1: invalid escape token", 0), 0u);
}

TEST(DockerfileLexerTest, Heredocs) {
  auto lexed = LexDockerfile(
      "FROM a\n"
      "RUN <<EOF\n"
      "echo $HOME\n"
      "EOF\n"
      "RUN <<-'END' cat > /x && 3<<\"TWO\" sh\n"
      "\t\tquoted $X\n"
      "\tEND\n"
      "second\n"
      "TWO\n"
      "COPY <<file1 <<file2 /dest/\n"
      "one\n"
      "file1\n"
      "file2\n"
      "RUN [\"echo\", \"<<EOF\"]\n",
      "Dockerfile");
  ASSERT_TRUE(lexed.ok()) << lexed.error().message();
  ASSERT_EQ(lexed->lines.size(), 5u);
  const LogicalLine& run = lexed->lines[1];
  ASSERT_EQ(run.heredocs.size(), 1u);
  EXPECT_EQ(run.heredocs[0], (Heredoc{"EOF", "echo $HOME\n", true, false, 0}));
  EXPECT_EQ(run.lines, (LineRange{2, 4}));
  const LogicalLine& two = lexed->lines[2];
  ASSERT_EQ(two.heredocs.size(), 2u);
  EXPECT_EQ(two.heredocs[0], (Heredoc{"END", "\t\tquoted $X\n", false, true, 0}));
  EXPECT_EQ(two.heredocs[0].Body(), "quoted $X\n");
  EXPECT_EQ(two.heredocs[1], (Heredoc{"TWO", "second\n", false, false, 3}));
  EXPECT_EQ(two.text, "RUN <<-'END' cat > /x && 3<<\"TWO\" sh");
  const LogicalLine& copy = lexed->lines[3];
  ASSERT_EQ(copy.heredocs.size(), 2u);
  EXPECT_EQ(copy.heredocs[0].content, "one\n");
  EXPECT_EQ(copy.heredocs[1].content, "");
  EXPECT_TRUE(lexed->lines[4].heredocs.empty());  // JSON form: no heredocs
  EXPECT_EQ(lexed->lines[4].lines, (LineRange{14, 14}));
}

TEST(DockerfileLexerTest, UnterminatedHeredoc) {
  auto lexed = LexDockerfile("FROM a\nRUN <<EOF\necho hi\n", "Dockerfile");
  ASSERT_FALSE(lexed.ok());
  EXPECT_EQ(lexed.error().kind(), ErrorKind::kUsage);
  EXPECT_EQ(lexed.error().message().rfind("Dockerfile:2: unterminated heredoc EOF", 0), 0u)
      << lexed.error().message();
}

TEST(DockerfileLexerTest, OverlongLine) {
  std::string input = "FROM a\nRUN " + std::string(kMaxDockerfileLine, 'x') + "\n";
  auto lexed = LexDockerfile(input, "Dockerfile");
  ASSERT_FALSE(lexed.ok());
  EXPECT_EQ(lexed.error().message().rfind("Dockerfile:2: line longer", 0), 0u);
}

}  // namespace
}  // namespace vk::build
