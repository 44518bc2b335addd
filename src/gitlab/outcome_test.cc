#include "gitlab/outcome.h"

#include <gtest/gtest.h>

namespace vk::gitlab {
namespace {

const FailureCodes kCodes{11, 12};

TEST(GitlabOutcomeTest, ScriptStatusIsTheJobs) {
  StageExit ok = ExitForScript(0, kCodes);
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_FALSE(ok.build_status);
  StageExit failed = ExitForScript(3, kCodes);
  EXPECT_EQ(failed.exit_code, 11);
  EXPECT_EQ(failed.build_status, 3);
  StageExit killed = ExitForScript(128 + 9, kCodes);  // e.g. the guest's OOM killer
  EXPECT_EQ(killed.exit_code, 11);
  EXPECT_EQ(killed.build_status, 137);
}

TEST(GitlabOutcomeTest, NotReachingTheVmIsOurs) {
  for (ErrorKind kind : {ErrorKind::kNotFound, ErrorKind::kNoExitStatus, ErrorKind::kInternal,
                         ErrorKind::kTimeout, ErrorKind::kGuestPanic}) {
    StageExit exit = ExitForScript(Error(kind, "vm gone"), kCodes);
    EXPECT_EQ(exit.exit_code, 12);
    EXPECT_FALSE(exit.build_status);
  }
}

TEST(GitlabOutcomeTest, PrepareFailures) {
  EXPECT_EQ(ExitCodeOf(FailureOf(ErrorKind::kUsage), kCodes), 11);
  EXPECT_EQ(ExitCodeOf(FailureOf(ErrorKind::kNotFound), kCodes), 11);
  for (ErrorKind kind :
       {ErrorKind::kNoKvm, ErrorKind::kImage, ErrorKind::kDisk, ErrorKind::kNetwork,
        ErrorKind::kTimeout, ErrorKind::kPreflight, ErrorKind::kInternal, ErrorKind::kGuestPanic}) {
    EXPECT_EQ(ExitCodeOf(FailureOf(kind), kCodes), 12);
  }
}

}  // namespace
}  // namespace vk::gitlab
