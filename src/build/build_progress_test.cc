// BuildProgress with steps of stages that build at the same time: each
// line names its step, each step keeps its own output tail.
#include "build/build_progress.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace vk::build {
namespace {

class Captured {
 public:
  Captured() : file_(std::tmpfile()) {}
  ~Captured() { std::fclose(file_); }
  std::FILE* file() { return file_; }
  std::string Text() {
    std::fflush(file_);
    std::rewind(file_);
    std::string out;
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), file_)) > 0) out.append(buffer, n);
    return out;
  }

 private:
  std::FILE* file_;
};

TEST(BuildProgressTest, PlainLinesOfInterleavedStepsNameTheirStep) {
  Captured out;
  BuildProgress progress(ProgressMode::kPlain, out.file());
  auto a = progress.Begin("[a 2/2] RUN make");
  auto b = progress.Begin("[b 2/2] RUN test");
  progress.Output(a, "compiling\nlin");
  progress.Output(b, "testing\n");
  progress.Output(a, "king\n");
  progress.Done(b);
  progress.Cached(progress.Begin("[c 1/1] FROM x"));
  progress.Failed(a);
  std::string text = out.Text();
  EXPECT_NE(text.find("#1 [a 2/2] RUN make\n#2 [b 2/2] RUN test\n#1 compiling\n#2 testing\n"
                      "#1 linking\n#2 DONE "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("#3 [c 1/1] FROM x\n#3 CACHED\n#1 ERROR "), std::string::npos) << text;
  EXPECT_EQ(progress.Tail(a), "compiling\nlinking\n");  // kept after the failure
  EXPECT_EQ(progress.Tail(b), "");                      // done: nothing kept
}

TEST(BuildProgressTest, ATerminalShowsEveryRunningStepAndFinishedOnesOnce) {
  Captured out;
  BuildProgress progress(ProgressMode::kTty, out.file());
  auto a = progress.Begin("[a 2/2] RUN make");
  auto b = progress.Begin("[b 2/2] RUN test");
  progress.Output(a, "compiling\n");
  progress.Done(a);
  progress.Failed(b);
  std::string text = out.Text();
  EXPECT_NE(text.find("=> [a 2/2] RUN make  "), std::string::npos) << text;
  EXPECT_NE(text.find("=> [b 2/2] RUN test  "), std::string::npos) << text;
  EXPECT_NE(text.find("ERROR\n"), std::string::npos) << text;
  // After the last step ended nothing is left drawn: the text ends with
  // b's final line, not with a redrawn running step.
  EXPECT_EQ(text.substr(text.rfind("=> ")).find("[b 2/2] RUN test"), 3u) << text;
}

TEST(BuildProgressTest, QuietPrintsNothingButKeepsTails) {
  Captured out;
  BuildProgress progress(ProgressMode::kQuiet, out.file());
  auto a = progress.Begin("[a 1/1] RUN x");
  progress.Output(a, "oops\n");
  progress.Failed(a);
  progress.Note("writing image");
  EXPECT_EQ(out.Text(), "");
  EXPECT_EQ(progress.Tail(a), "oops\n");
}

}  // namespace
}  // namespace vk::build
