// Test helpers for the CLI tests: seed a local registry with a one-layer
// image built from files the test can compare against.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "image/test_support.h"
#include "image/testing/local_registry.h"
#include "image/testing/oci_layout.h"

namespace vk::cli_test {

// In a test body (any namespace): skips without the registry tools.
#define REQUIRE_CLI_REGISTRY_TOOLS()                        \
  if (!::vk::image::testing::HaveTool("docker-registry") || \
      !::vk::image::testing::HaveTool("skopeo"))            \
  GTEST_SKIP() << "needs docker-registry and skopeo (scripts/install-deps.sh installs them)"

// What goes into the seeded image's one layer besides /data/hello.
struct LayerSpec {
  size_t random_bytes = 0;  // /data/random: incompressible, as large on the wire as on disk
  int small_files = 0;      // /data/files/f<N>: work for the ext4 writer's metadata
  bool gzip = false;        // store the layer gzipped, as registries usually do
};

// Seeds `repo` with a one-layer image whose files stay under dir/root for
// the test to compare with.
inline void SeedImage(const image::testing::LocalRegistry& registry, const std::string& dir,
                      const std::string& repo, const LayerSpec& layer) {
  std::filesystem::create_directories(dir + "/root/data/files");
  std::ofstream(dir + "/root/data/hello") << "hello from the image\n";
  for (int i = 0; i < layer.small_files; ++i)
    std::ofstream(dir + "/root/data/files/f" + std::to_string(i)) << "file " << i << "\n";
  if (layer.random_bytes > 0)
    image::testing::Run("head -c " + std::to_string(layer.random_bytes) + " /dev/urandom > " + dir +
                        "/root/data/random");
  image::testing::Run("tar -C " + dir + "/root -cf " + dir + "/layer.tar .");
  std::string stored = dir + "/layer.tar";
  if (layer.gzip) {
    image::testing::Run("gzip -1 -k " + stored);
    stored += ".gz";
  }
  image::testing::OciLayoutWriter writer(dir + "/layout");
  image::ImageConfig config;
  config.os = "linux";
  config.architecture = "amd64";
  config.cmd = {"/bin/sh"};
  writer.Tag(writer.AddImage({{stored, dir + "/layer.tar"}}, config), "v1");
  writer.WriteIndex();
  ASSERT_TRUE(registry.Seed(dir + "/layout:v1", repo));
}

}  // namespace vk::cli_test
