// The fixture most end-to-end tests share: skipped (with the reason) where
// /dev/kvm is not usable, else a fresh busybox root disk in a temp dir.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "e2e/vk_process.h"

namespace vk::e2e {

class BusyboxVmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason = KvmUnavailableReason();
    if (!reason.empty()) GTEST_SKIP() << "needs /dev/kvm: " << reason;
    disk_ = MakeBusyboxDisk(dir_);
  }

  // `vk launch --disk DISK OPTIONS... [-- COMMAND...]`.
  ProcessResult Launch(const std::vector<std::string>& options,
                       const std::vector<std::string>& command, const std::string& input = "") {
    std::vector<std::string> args{"launch", "--disk", disk_};
    args.insert(args.end(), options.begin(), options.end());
    if (!command.empty()) {
      args.push_back("--");
      args.insert(args.end(), command.begin(), command.end());
    }
    return RunVk(args, input);
  }

  TempDir dir_;
  std::string disk_;
};

}  // namespace vk::e2e
