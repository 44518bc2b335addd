// A built image survives a registry round trip and reads the same in other
// tools' hands: a two-stage FROM scratch build (COPY of files, a directory
// with a symlink and an executable, --chmod, --chown, COPY --from, ADD of a
// .tar.gz, config instructions) is pushed with `vk image push`'s code to a
// local registry, copied back with skopeo, unpacked with umoci, and compared
// file by file with what the build stored; the config as skopeo reads it.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "build/builder.h"
#include "image/image_push.h"
#include "image/pull.h"
#include "image/test_support.h"
#include "image/testing/local_registry.h"
#include "image/testing/tree_listing.h"

namespace vk::build {
namespace {

using image::testing::TempDir;
using image::testing::Tree;

constexpr const char* kDockerfile = R"(FROM scratch AS assets
COPY assets/ /assets/

FROM scratch
COPY hello.txt /app/
COPY tree /app/tree/
COPY --chmod=0640 config.ini /etc/app/config.ini
COPY --chown=1000:1000 data /home/app/data
COPY --from=assets /assets/logo.txt /usr/share/app/
ADD bundle.tar.gz /opt/
ENV APP_HOME=/app PATH=/app/tree/bin:/usr/bin
WORKDIR /app/work
USER 1000:1000
LABEL org.example.title="round trip" version=1
EXPOSE 8080 53/udp
ENTRYPOINT ["/app/tree/bin/tool"]
CMD ["--serve"]
)";

void WriteContext(const std::string& dir) {
  image::testing::WriteFile(dir + "/Dockerfile", kDockerfile);
  image::testing::WriteFile(dir + "/hello.txt", "hello\n");
  image::testing::WriteFile(dir + "/tree/bin/tool", "#!/bin/sh\necho tool\n", 0755);
  image::testing::WriteFile(dir + "/tree/sub/file.txt", "nested\n", 0600);
  std::filesystem::create_directories(dir + "/tree/empty");
  std::filesystem::create_symlink("sub/file.txt", dir + "/tree/link");
  image::testing::WriteFile(dir + "/config.ini", "[app]\nport=8080\n");
  image::testing::WriteFile(dir + "/data/records.csv", "id,name\n1,one\n");
  image::testing::WriteFile(dir + "/assets/logo.txt", "<logo>\n");
  image::testing::WriteTar(
      dir + "/bundle.tar.gz",
      {{.path = "bundle/", .type = AE_IFDIR, .perm = 0755},
       {.path = "bundle/run", .perm = 0755, .uid = 7, .gid = 8, .data = "run\n"},
       {.path = "bundle/current", .type = AE_IFLNK, .link = "run"}},
      /*gzip=*/true);
}

// A hard failure, not a skip: scripts/install-deps.sh installs them all.
void RequireTools() {
  for (const char* tool : {"docker-registry", "skopeo", "umoci"})
    ASSERT_TRUE(image::testing::HaveTool(tool))
        << "needs " << tool << " (Debian package " << tool << ", scripts/install-deps.sh)";
}

class RegistryRoundTrip : public ::testing::Test {
 protected:
  // Builds the image into dir_/store and returns its stored record.
  image::ImageRecord Build() {
    BuildRequest request;
    request.context_dir = dir_ / "context";
    request.store_root = dir_ / "store";
    request.tags = {"test/roundtrip:1"};
    WriteContext(request.context_dir);
    BuildProgress progress(ProgressMode::kQuiet);
    BuildOutcome outcome;
    auto built = BuildImage(request, progress, outcome);
    EXPECT_TRUE(built.ok()) << built.error().message();
    auto record = store_->FindImage(outcome.names.at(0));
    EXPECT_TRUE(record.ok() && record->has_value());
    return **record;
  }

  // `vk image push`'s code path, then `skopeo copy` into dir_/back:v1.
  std::string PushAndCopyBack(const image::ImageRecord& record,
                              const image::testing::LocalRegistry& registry) {
    image::Reference target = *image::ParseReference(registry.host() + "/test/roundtrip:v1");
    image::ImagePushOptions options;
    options.insecure = true;
    options.progress = Progress::Style::kQuiet;
    auto pushed = image::PushImage(*store_, record, target, options);
    EXPECT_TRUE(pushed.ok()) << pushed.error().message();
    std::string remote = "docker://" + target.Canonical();
    int status = -1;
    image::testing::Run(
        "skopeo copy -q --src-tls-verify=false " + remote + " oci:" + dir_ / "back:v1", &status);
    EXPECT_EQ(status, 0) << "skopeo copy " << remote;
    return remote;
  }

  TempDir dir_;
  std::optional<image::Store> store_ = *image::Store::Open(dir_ / "store");
};

// Owners as a rootless unpack leaves them: every file is the caller's.
Tree WithoutOwners(Tree tree) {
  for (auto& [path, entry] : tree) entry.uid = entry.gid = 0;
  return tree;
}

TEST_F(RegistryRoundTrip, PulledBackImageHasTheBuiltTreeAndConfig) {
  RequireTools();
  image::testing::LocalRegistry registry(dir_ / "registry");
  ASSERT_TRUE(registry.ready()) << image::testing::ReadFile(registry.log_path());
  image::ImageRecord record = Build();
  Tree ours = image::testing::TreeOfLayers(image::LayerPaths(*store_, record));
  std::string remote = PushAndCopyBack(record, registry);

  // The layers as the registry served them (owners included).
  image::testing::LayoutImage back = image::testing::ReadLayoutImage(dir_ / "back", "v1");
  ASSERT_EQ(back.layers.size(), record.layers.size());
  EXPECT_EQ(image::testing::TreeDifferences(ours, image::testing::TreeOfLayers(back.layers)), "");

  // umoci's rootless unpack of the same: names, types, modes, sizes,
  // contents, symlinks (owners cannot be given without privileges; the
  // layers' owners are compared above). The root's mode is umoci's own.
  int status = -1;
  std::string log = image::testing::Run(
      "umoci raw unpack --rootless --image " + dir_ / "back:v1" + " " + dir_ / "rootfs 2>&1",
      &status);
  ASSERT_EQ(status, 0) << log;
  Tree unpacked = image::testing::TreeOfDirectory(dir_ / "rootfs");
  EXPECT_EQ(image::testing::TreeDifferences(WithoutOwners(ours), WithoutOwners(unpacked), {"/"}),
            "");

  // What the Dockerfile asked for, in the tree every tool agreed on.
  EXPECT_EQ(ours["/app/tree/bin/tool"].perm, 0755u);
  EXPECT_EQ(ours["/app/tree/sub/file.txt"].perm, 0600u);
  EXPECT_EQ(ours["/app/tree/empty"].type, unsigned{AE_IFDIR});
  EXPECT_EQ(ours["/app/tree/link"].target, "sub/file.txt");
  EXPECT_EQ(ours["/etc/app/config.ini"].perm, 0640u);
  EXPECT_EQ(ours["/home/app/data/records.csv"].uid, 1000);
  EXPECT_EQ(ours["/home/app/data/records.csv"].gid, 1000);
  EXPECT_EQ(ours["/usr/share/app/logo.txt"].size, 7);
  EXPECT_EQ(ours["/opt/bundle/run"].uid, 7);  // the archive's owners
  EXPECT_EQ(ours["/opt/bundle/current"].target, "run");
  EXPECT_EQ(ours["/app/work"].type, unsigned{AE_IFDIR});
  EXPECT_FALSE(ours.contains("/opt/bundle.tar.gz"));

  std::string inspect =
      image::testing::Run("skopeo inspect --config --tls-verify=false " + remote, &status);
  ASSERT_EQ(status, 0) << inspect;
  nlohmann::json config = nlohmann::json::parse(inspect).at("config");
  EXPECT_EQ(config.at("Env"), nlohmann::json({"PATH=/app/tree/bin:/usr/bin", "APP_HOME=/app"}));
  EXPECT_EQ(config.at("Entrypoint"), nlohmann::json({"/app/tree/bin/tool"}));
  EXPECT_EQ(config.at("Cmd"), nlohmann::json({"--serve"}));
  EXPECT_EQ(config.at("WorkingDir"), "/app/work");
  EXPECT_EQ(config.at("User"), "1000:1000");
  EXPECT_EQ(config.at("ExposedPorts"), nlohmann::json::parse(R"({"53/udp":{},"8080/tcp":{}})"));
  EXPECT_EQ(config.at("Labels"),
            nlohmann::json::parse(R"({"org.example.title":"round trip","version":"1"})"));
}

}  // namespace
}  // namespace vk::build
