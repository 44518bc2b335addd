// The fixture of the `vk run` end-to-end tests: skipped (with the reason)
// where /dev/kvm is not usable, else a busybox image with a docker-style
// config (Env PATH and GREETING=from-the-image, WorkingDir /home/app, User
// 1000, Cmd `echo default-cmd`) pushed by skopeo to Debian's
// docker-registry on 127.0.0.1, and VIRTKIT_HOME in a temp dir.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "e2e/vk_process.h"
#include "image/manifest.h"
#include "image/testing/local_registry.h"
#include "image/testing/oci_layout.h"

namespace vk::e2e {

class RegistryImageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string reason = KvmUnavailableReason();
    if (!reason.empty()) GTEST_SKIP() << "needs /dev/kvm: " << reason;
    ::setenv("VIRTKIT_HOME", (dir_.path() + "/home").c_str(), 1);
    MakeBusyboxDisk(dir_);  // leaves the tree in dir/rootfs
    registry_ = std::make_unique<image::testing::LocalRegistry>(dir_.path() + "/registry");
    ASSERT_TRUE(registry_->ready());
    std::filesystem::create_directories(dir_.path() + "/rootfs/home/app");
    std::ofstream(dir_.path() + "/rootfs/etc/passwd", std::ios::app)
        << "app:x:1000:1000::/home/app:/bin/sh\n";
    ASSERT_EQ(RunProcess({"tar", "-C", dir_.path() + "/rootfs", "--owner=0", "--group=0", "-cf",
                          dir_.path() + "/layer.tar", "."})
                  .exit_code,
              0);
    image::testing::OciLayoutWriter writer(dir_.path() + "/layout");
    image::ImageConfig config;
    config.os = "linux";
    config.architecture = "amd64";
    config.env = {"PATH=/bin:/sbin:/usr/bin", "GREETING=from-the-image"};
    config.working_dir = "/home/app";
    config.user = "1000";
    config.cmd = {"sh", "-c", "echo default-cmd"};
    writer.Tag(writer.AddImage({{dir_.path() + "/layer.tar", dir_.path() + "/layer.tar"}}, config),
               "v1");
    writer.WriteIndex();
    ASSERT_TRUE(registry_->Seed(dir_.path() + "/layout:v1", "e2e/busybox:v1"));
    image_ = registry_->host() + "/e2e/busybox:v1";
  }
  void TearDown() override { ::unsetenv("VIRTKIT_HOME"); }

  ProcessResult Run(std::vector<std::string> options, std::vector<std::string> command,
                    const std::string& input = "") {
    std::vector<std::string> args{"run"};
    args.insert(args.end(), options.begin(), options.end());
    args.push_back("--insecure");
    args.push_back(image_);
    if (!command.empty()) {
      args.push_back("--");
      args.insert(args.end(), command.begin(), command.end());
    }
    return RunVk(args, input);
  }

  std::string BasePath() {
    ProcessResult convert = RunVk({"image", "convert", "--insecure", image_});
    return convert.out.substr(0, convert.out.find('\n'));
  }

  TempDir dir_;
  std::unique_ptr<image::testing::LocalRegistry> registry_;
  std::string image_;
};

}  // namespace vk::e2e
