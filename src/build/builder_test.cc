// The host-side builder end to end without VMs: a FROM scratch image with
// COPY/ADD and config instructions is built into a store, and the stored
// image is checked (config, layer tars, the ext4 base); then the cache:
// a repeated build is all hits, a changed file reruns its step and later.
#include "build/builder.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "build/build_config.h"
#include "image/ext4_file_reader.h"
#include "image/pull.h"
#include "image/reference.h"
#include "image/test_support.h"

namespace vk::build {
namespace {

using image::testing::Debugfs;
using image::testing::TempDir;

constexpr const char* kDockerfile = R"(FROM scratch AS base
ARG GREETING=hi
ENV GREETING=$GREETING PATH=/bin
COPY hello.txt /app/
COPY --chown=1000:1001 --chmod=0750 bin /app/bin
ADD files.tar /
COPY <<EOF /app/inline.txt
greeting=${GREETING}
EOF
WORKDIR /app/work
USER 1000
LABEL org.example.name=test
EXPOSE 8080 53/udp
VOLUME /data
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s CMD ["/app/bin/tool"]
ENTRYPOINT ["/app/bin/tool"]
CMD ["--help"]

FROM base
COPY --from=base /app/hello.txt /copied.txt
)";

class BuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    context_ = dir_ / "context";
    image::testing::WriteFile(context_ + "/hello.txt", "hello\n");
    image::testing::WriteFile(context_ + "/bin/tool", "#!/bin/sh\necho tool\n");
    std::filesystem::permissions(context_ + "/bin/tool", std::filesystem::perms(0755));
    image::testing::WriteFile(context_ + "/bin/secret.key", "do not copy\n");
    image::testing::WriteFile(context_ + "/.dockerignore", "**/*.key\n");
    image::testing::WriteTar(context_ + "/files.tar",
                             {{.path = "etc/", .type = AE_IFDIR, .perm = 0755},
                              {.path = "etc/app.conf", .uid = 7, .gid = 8, .data = "conf\n"},
                              {.path = "etc/app.link", .type = AE_IFLNK, .link = "app.conf"}});
    image::testing::WriteFile(context_ + "/Dockerfile", kDockerfile);
    request_.context_dir = context_;
    request_.store_root = dir_ / "store";
    request_.tags = {"test/app:1"};
  }

  BuildOutcome Build() {
    BuildProgress progress(ProgressMode::kQuiet);
    BuildOutcome outcome;
    auto built = BuildImage(request_, progress, outcome);
    EXPECT_TRUE(built.ok()) << built.error().message();
    return outcome;
  }

  image::ImageRecord Stored() {
    auto store = image::Store::Open(request_.store_root);
    auto record = store->FindImage("docker.io/test/app:1");
    EXPECT_TRUE(record.ok() && record->has_value());
    return **record;
  }

  TempDir dir_;
  std::string context_;
  BuildRequest request_;
};

TEST_F(BuilderTest, StoresTheImageWithConfigLayersAndBase) {
  BuildOutcome outcome = Build();
  EXPECT_EQ(outcome.vms_booted, 0u);
  EXPECT_EQ(outcome.cached, 0u);
  image::ImageRecord record = Stored();
  EXPECT_EQ(record.manifest_digest, outcome.manifest_digest);
  auto store = image::Store::Open(request_.store_root);
  auto config = ParseBuildConfig(*store->ReadBlob(record.config_digest, 1 << 20));
  ASSERT_TRUE(config.ok());
  // PATH first: FROM scratch starts with docker's default PATH.
  EXPECT_EQ(config->env, (std::vector<std::string>{"PATH=/bin", "GREETING=hi"}));
  EXPECT_EQ(config->working_dir, "/app/work");
  EXPECT_EQ(config->user, "1000");
  EXPECT_EQ(config->entrypoint, (std::vector<std::string>{"/app/bin/tool"}));
  EXPECT_EQ(config->cmd, (std::vector<std::string>{"--help"}));
  EXPECT_EQ(config->labels.at("org.example.name"), "test");
  EXPECT_EQ(config->exposed_ports, (std::set<std::string>{"53/udp", "8080/tcp"}));
  EXPECT_EQ(config->volumes, (std::set<std::string>{"/data"}));
  EXPECT_EQ(config->stop_signal, "SIGTERM");
  ASSERT_TRUE(config->healthcheck.has_value());
  EXPECT_EQ(config->healthcheck->interval_ns, 5'000'000'000);
  EXPECT_EQ(config->diff_ids, record.layers);
  // One history entry per instruction but ARG and FROM.
  EXPECT_EQ(config->history.size(), 15u);
  EXPECT_EQ(config->history.front().created_by, "ENV GREETING=$GREETING PATH=/bin # buildkit");
  EXPECT_TRUE(config->history.front().empty_layer);

  // Layers: COPY hello, COPY bin, ADD tar, COPY inline, WORKDIR, COPY --from.
  ASSERT_EQ(record.layers.size(), 6u);
  std::string bin =
      image::testing::Run("tar tvf " + store->BlobPath(record.layers[1]) + " --numeric-owner");
  EXPECT_NE(bin.find("-rwxr-x--- 1000/1001"), std::string::npos) << bin;
  EXPECT_NE(bin.find("app/bin/tool"), std::string::npos) << bin;
  EXPECT_EQ(bin.find("secret.key"), std::string::npos) << bin;  // .dockerignore
  std::string added =
      image::testing::Run("tar tvf " + store->BlobPath(record.layers[2]) + " --numeric-owner");
  EXPECT_NE(added.find("7/8"), std::string::npos) << added;  // the archive's owners
  EXPECT_NE(added.find("etc/app.conf"), std::string::npos) << added;
  // The archive says 0644; an unpacked symlink is 0777, as docker's layer.
  EXPECT_NE(added.find("lrwxrwxrwx 0/0"), std::string::npos) << added;

  // The ext4 base has the whole tree.
  ASSERT_FALSE(outcome.base_path.empty());
  EXPECT_EQ(*image::ReadExt4File(outcome.base_path, "/app/hello.txt", 100), "hello\n");
  EXPECT_EQ(*image::ReadExt4File(outcome.base_path, "/app/inline.txt", 100), "greeting=hi\n");
  EXPECT_EQ(*image::ReadExt4File(outcome.base_path, "/etc/app.conf", 100), "conf\n");
  EXPECT_EQ(*image::ReadExt4File(outcome.base_path, "/copied.txt", 100), "hello\n");
  std::string work = Debugfs(outcome.base_path, "stat /app/work");
  EXPECT_NE(work.find("Type: directory"), std::string::npos) << work;
  std::string tool = Debugfs(outcome.base_path, "stat /app/bin/tool");
  EXPECT_NE(tool.find("Mode:  0750"), std::string::npos) << tool;
}

// docker's empty image (BuildKit): the default PATH and "/" as the working
// directory, so `ENV PATH=$PATH:...` extends it.
TEST_F(BuilderTest, ScratchStartsWithDockersDefaultPathAndWorkdir) {
  image::testing::WriteFile(context_ + "/Dockerfile",
                            "FROM scratch\nENV PATH=$PATH:/app/bin\nCOPY hello.txt /\n");
  Build();
  image::ImageRecord record = Stored();
  auto store = image::Store::Open(request_.store_root);
  auto config = ParseBuildConfig(*store->ReadBlob(record.config_digest, 1 << 20));
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->env,
            (std::vector<std::string>{
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/app/bin"}));
  EXPECT_EQ(config->working_dir, "/");
}

// Docker builds an image with no layer at all from config instructions.
TEST_F(BuilderTest, ConfigOnlyScratchImageHasNoLayersAndABase) {
  image::testing::WriteFile(context_ + "/Dockerfile",
                            "FROM scratch\nENV GREETING=hi\nLABEL a=b\nCMD [\"/hello\"]\n");
  BuildOutcome outcome = Build();
  image::ImageRecord record = Stored();
  auto store = image::Store::Open(request_.store_root);
  auto config = ParseBuildConfig(*store->ReadBlob(record.config_digest, 1 << 20));
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->cmd, (std::vector<std::string>{"/hello"}));
  ASSERT_FALSE(outcome.base_path.empty());
  EXPECT_NE(Debugfs(outcome.base_path, "stat /").find("Type: directory"), std::string::npos);
  auto manifest = nlohmann::json::parse(*store->ReadBlob(record.manifest_digest, 1 << 20));
  EXPECT_TRUE(manifest["layers"].empty()) << manifest.dump();
}

TEST_F(BuilderTest, RepeatedBuildIsCachedAndGivesTheSameImage) {
  BuildOutcome first = Build();
  BuildOutcome second = Build();
  EXPECT_EQ(second.cached, second.steps);
  EXPECT_EQ(second.manifest_digest, first.manifest_digest);
}

TEST_F(BuilderTest, ChangingOneCopiedFileRerunsOnlyThatStepAndLater) {
  BuildOutcome first = Build();
  image::testing::WriteFile(context_ + "/bin/tool", "#!/bin/sh\necho changed\n");
  BuildOutcome second = Build();
  // ENV and COPY hello.txt stay cached; COPY bin and everything after run.
  EXPECT_EQ(second.cached, 2u);
  EXPECT_NE(second.manifest_digest, first.manifest_digest);
  // An ignored file changing changes nothing.
  image::testing::WriteFile(context_ + "/bin/secret.key", "another\n");
  BuildOutcome third = Build();
  EXPECT_EQ(third.cached, third.steps);
  EXPECT_EQ(third.manifest_digest, second.manifest_digest);
}

TEST_F(BuilderTest, BuildArgChangesTheKeyFromItsArgOn) {
  Build();
  request_.build_args["GREETING"] = "hello";
  BuildOutcome outcome = Build();
  EXPECT_EQ(outcome.cached, 0u);  // ENV right after the ARG already differs
  EXPECT_EQ(*image::ReadExt4File(outcome.base_path, "/app/inline.txt", 100), "greeting=hello\n");
}

TEST_F(BuilderTest, PruneDropsTheCacheAndRmKeepsIt) {
  Build();
  auto store = image::Store::Open(request_.store_root);
  ASSERT_TRUE(store->RemoveImage("docker.io/test/app:1").ok());
  ASSERT_TRUE(store->Prune().ok());  // as `vk image rm`: cached layers stay
  EXPECT_EQ(Build().cached, 15u);
  ASSERT_TRUE(store->RemoveImage("docker.io/test/app:1").ok());
  auto pruned = store->Prune(image::Store::BuildCachePolicy::kDrop);
  ASSERT_TRUE(pruned.ok());
  EXPECT_GT(pruned->cache_entries_removed, 0u);
  EXPECT_EQ(Build().cached, 0u);
}

TEST_F(BuilderTest, ErrorsNameTheProblem) {
  image::testing::WriteFile(context_ + "/Dockerfile", "FROM scratch\nCOPY missing.txt /\n");
  BuildProgress progress(ProgressMode::kQuiet);
  BuildOutcome outcome;
  auto built = BuildImage(request_, progress, outcome);
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.error().kind(), ErrorKind::kUsage);
  EXPECT_NE(built.error().message().find("missing.txt"), std::string::npos)
      << built.error().message();
  image::testing::WriteFile(context_ + "/Dockerfile",
                            "FROM scratch\nCOPY hello.txt bin/tool /app\n");
  built = BuildImage(request_, progress, outcome);
  ASSERT_FALSE(built.ok());
  EXPECT_NE(built.error().message().find("must be a directory and end with a /"), std::string::npos)
      << built.error().message();
}

// Each source of a COPY --from is extracted apart (they used to collide).
TEST_F(BuilderTest, CopyFromTakesSeveralSources) {
  image::testing::WriteFile(context_ + "/Dockerfile",
                            "FROM scratch AS base\nCOPY hello.txt bin/tool /app/\n"
                            "FROM scratch\nCOPY --from=base /app/hello.txt /app/tool /out/\n");
  BuildOutcome outcome = Build();
  ASSERT_FALSE(outcome.base_path.empty());
  EXPECT_EQ(*image::ReadExt4File(outcome.base_path, "/out/hello.txt", 100), "hello\n");
  EXPECT_EQ(*image::ReadExt4File(outcome.base_path, "/out/tool", 100), "#!/bin/sh\necho tool\n");
}

// RUN mounts that cannot be made fail before any VM boots.
TEST_F(BuilderTest, RunMountErrorsComeBeforeTheVm) {
  const std::pair<const char*, const char*> cases[] = {
      {"RUN --mount=type=ssh true", "type=ssh is not implemented"},
      {"RUN --mount=type=secret,id=npm,required true", "--secret id=npm,src=FILE"},
      {"RUN --mount=type=tmpfs,size=1m true", "needs target=PATH"},
      {"RUN --mount=type=bind,source=missing.txt,target=/x true", "missing.txt"},
      {"RUN --mount=type=bind,source=*.txt,target=/x true", "must name one path"},
      {"FROM scratch AS b\nRUN --mount=type=bind,from=0,source=/nothing,target=/x true",
       "/nothing"},
  };
  for (const auto& [run, words] : cases) {
    image::testing::WriteFile(context_ + "/Dockerfile", std::string("FROM scratch\n") + run + "\n");
    BuildProgress progress(ProgressMode::kQuiet);
    BuildOutcome outcome;
    auto built = BuildImage(request_, progress, outcome);
    ASSERT_FALSE(built.ok()) << run;
    EXPECT_EQ(built.error().kind(), ErrorKind::kUsage) << run;
    EXPECT_NE(built.error().message().find(words), std::string::npos) << built.error().message();
    EXPECT_EQ(outcome.vms_booted, 0u) << run;
  }
}

}  // namespace
}  // namespace vk::build
