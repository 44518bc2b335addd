#include "runtime/vmm_kind.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace vk {
namespace {

// Sets VIRTKIT_VMM for one test and restores what was there.
class VmmEnv {
 public:
  explicit VmmEnv(const char* value) {
    if (const char* old = ::getenv("VIRTKIT_VMM")) saved_ = old;
    value ? ::setenv("VIRTKIT_VMM", value, 1) : ::unsetenv("VIRTKIT_VMM");
  }
  ~VmmEnv() { saved_ ? ::setenv("VIRTKIT_VMM", saved_->c_str(), 1) : ::unsetenv("VIRTKIT_VMM"); }

 private:
  std::optional<std::string> saved_;
};

TEST(VmmKindTest, NamesRoundTripAndUnknownNamesAreRefusedWithTheChoices) {
  for (VmmKind kind : {VmmKind::kVirtkit, VmmKind::kQemu})
    EXPECT_EQ(*ParseVmmKind(VmmKindName(kind)), kind);
  auto bad = ParseVmmKind("firecracker");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind(), ErrorKind::kUsage);
  EXPECT_NE(bad.error().message().find("virtkit (the default) or qemu"), std::string::npos);
}

TEST(VmmKindTest, TheFlagWinsOverTheEnvironmentWhichWinsOverTheDefault) {
  {
    VmmEnv env(nullptr);
    EXPECT_EQ(*ChooseVmm(""), VmmKind::kVirtkit);
    EXPECT_EQ(*ChooseVmm("qemu"), VmmKind::kQemu);
  }
  {
    VmmEnv env("qemu");
    EXPECT_EQ(*ChooseVmm(""), VmmKind::kQemu);
    EXPECT_EQ(*ChooseVmm("virtkit"), VmmKind::kVirtkit);
  }
  {
    VmmEnv env("kvmtool");
    auto bad = ChooseVmm("");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message().find("VIRTKIT_VMM"), std::string::npos);
    EXPECT_TRUE(ChooseVmm("qemu").ok());  // the flag is not overridden by a bad variable
  }
}

}  // namespace
}  // namespace vk
