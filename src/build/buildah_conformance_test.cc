// `vk build` against `buildah bud` on Dockerfiles without RUN: the same
// context and Dockerfile through both, then both images' file trees (names,
// types, modes, owners, sizes, contents, symlink targets, xattrs; no
// timestamps) and configs (Env, Cmd, Entrypoint, WorkingDir, User) must
// agree. Where buildah departs from docker (BuildKit), docker's behaviour is
// the reference and the case says why it skips that path.
#include <gtest/gtest.h>

#include <fstream>

#include "build/build_config.h"
#include "build/builder.h"
#include "image/pull.h"
#include "image/test_support.h"
#include "image/testing/local_registry.h"
#include "image/testing/tree_listing.h"

namespace vk::build {
namespace {

using image::testing::TempDir;
using image::testing::Tree;

// One context for every case: sources for wildcards, ignore rules with
// exceptions, nested directories, modes, a symlink, archives.
void WriteContext(const std::string& dir) {
  image::testing::WriteFile(dir + "/src/main.c", "int main() { return 0; }\n");
  image::testing::WriteFile(dir + "/src/util.c", "void util() {}\n");
  image::testing::WriteFile(dir + "/src/util.h", "void util();\n");
  image::testing::WriteFile(dir + "/src/nested/deep.c", "int deep;\n");
  image::testing::WriteFile(dir + "/src/nested/deep.h", "extern int deep;\n", 0600);
  image::testing::WriteFile(dir + "/src/build.tmp", "scratch\n");
  image::testing::WriteFile(dir + "/docs/a.md", "# a\n");
  image::testing::WriteFile(dir + "/docs/b.md", "# b\n");
  image::testing::WriteFile(dir + "/docs/private/secret.md", "secret\n");
  image::testing::WriteFile(dir + "/logs/x.log", "x\n");
  image::testing::WriteFile(dir + "/logs/keep.log", "keep\n");
  image::testing::WriteFile(dir + "/sub/logs/y.log", "y\n");
  image::testing::WriteFile(dir + "/sub/readme", "sub\n");
  image::testing::WriteFile(dir + "/config/app.conf", "port=80\n", 0600);
  std::filesystem::create_directories(dir + "/config/empty");
  std::filesystem::permissions(dir + "/config/empty", std::filesystem::perms(0700));
  image::testing::WriteFile(dir + "/bin/tool", "#!/bin/sh\necho tool\n", 0755);
  std::filesystem::create_symlink("tool", dir + "/bin/link");
  image::testing::WriteTar(
      dir + "/bundle.tar.gz",
      {{.path = "bundle/", .type = AE_IFDIR, .perm = 0750, .uid = 7, .gid = 8},
       {.path = "bundle/run", .perm = 0755, .uid = 7, .gid = 8, .data = "run\n"},
       {.path = "bundle/current", .type = AE_IFLNK, .link = "run"}},
      /*gzip=*/true);
  image::testing::WriteTar(dir + "/plain.tar",
                           {{.path = "top.txt", .perm = 0604, .data = "top\n"}});
  image::testing::WriteFile(
      dir + "/.dockerignore",
      "**/*.log\n!logs/keep.log\ndocs/private\n*.tmp\n**/*.tmp\nDockerfile.*\n");
}

struct Case {
  const char* name;
  const char* dockerfile;
  std::set<std::string> skip;  // paths where docker and buildah differ (see the case)
};

// gtest prints the case's name, not its bytes.
void PrintTo(const Case& c, std::ostream* out) { *out << c.name; }

const Case kCases[] = {
    {"wildcards_and_ignore",
     R"(FROM scratch
COPY src/*.c /out/c/
COPY src/*.h /out/h
COPY src/main.c /out/renamed.c
COPY src/main.c /out/dir/
COPY src /out/src
COPY docs/ /out/docs/
COPY logs /out/logs
COPY sub /out/sub
COPY . /out/all/
COPY config/empty /out/e1
COPY config/empty /out/e2/
)",
     {}},
    {"existing_dirs_and_workdir",
     R"(FROM scratch
COPY config /etc/app/
COPY bin/tool /etc/app
COPY bin/tool /usr/local/bin/tool2
COPY bin /usr/local/bin/
WORKDIR /srv/data
COPY src/main.c .
WORKDIR relative/more
COPY src/util.h ./
COPY src/util.c util-copy.c
WORKDIR /srv
)",
     {}},
    {"owners_modes_archives",
     R"(FROM scratch AS base
ADD bundle.tar.gz /opt/
ADD plain.tar /opt/plain/
COPY --chown=1000:1000 config /home/user/config/
COPY --chown=1000:1000 bin/tool /home/user/
COPY --chmod=0700 bin/tool /root/tool
COPY --chmod=0644 --chown=42:43 src/ /srv/src/

FROM scratch
COPY --from=base /opt /opt
COPY --from=base /home/user/ /home/user/
ADD bundle.tar.gz /extract-here
ENV A=1 B="two words"
USER 1000:1000
WORKDIR /home/user
ENTRYPOINT ["/home/user/tool"]
CMD ["--flag"]
)",
     {}},
};

// A hard failure, not a skip: scripts/install-deps.sh installs buildah.
void RequireBuildah() {
  ASSERT_TRUE(image::testing::HaveTool("buildah"))
      << "needs buildah (Debian package buildah, scripts/install-deps.sh)";
}

class BuildahConformance : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    context_ = dir_ / "context";
    WriteContext(context_);
    image::testing::WriteFile(context_ + "/Dockerfile.test", GetParam().dockerfile);
  }

  // vk build into dir_/store: the image's tree and config.
  std::pair<Tree, BuildConfig> BuildWithVk() {
    BuildRequest request;
    request.context_dir = context_;
    request.dockerfile = context_ + "/Dockerfile.test";
    request.store_root = dir_ / "store";
    request.tags = {"conformance/vk:1"};
    BuildProgress progress(ProgressMode::kQuiet);
    BuildOutcome outcome;
    auto built = BuildImage(request, progress, outcome);
    EXPECT_TRUE(built.ok()) << built.error().message();
    if (!built.ok()) return {};
    auto store = image::Store::Open(request.store_root);
    auto record = store->FindImage(outcome.names.at(0));
    auto config = ParseBuildConfig(*store->ReadBlob((*record)->config_digest, 1 << 20));
    return {image::testing::TreeOfLayers(image::LayerPaths(*store, **record)), *config};
  }

  // buildah bud with its own storage under dir_ (nothing global touched),
  // chroot isolation (no RUN needs a runtime), pushed to an OCI layout.
  std::pair<Tree, BuildConfig> BuildWithBuildah() {
    std::string buildah = "buildah --root " + dir_ / "buildah/root" + " --runroot " +
                          dir_ / "buildah/run" + " --storage-driver vfs";
    int status = -1;
    std::string log = image::testing::Run(
        buildah + " bud --layers=false --isolation chroot -q -f " + context_ +
            "/Dockerfile.test -t conformance " + context_ + " 2>&1 && " + buildah +
            " push -q conformance oci:" + dir_ / "buildah-out:conformance 2>&1",
        &status);
    EXPECT_EQ(status, 0) << log;
    if (status != 0) return {};
    image::testing::LayoutImage image =
        image::testing::ReadLayoutImage(dir_ / "buildah-out", "conformance");
    auto config = ParseBuildConfig(image::testing::FileBytes(image.config));
    EXPECT_TRUE(config.ok()) << config.error().message();
    return {image::testing::TreeOfLayers(image.layers), *config};
  }

  TempDir dir_;
  std::string context_;
};

TEST_P(BuildahConformance, SameTreeAndConfig) {
  RequireBuildah();
  auto [ours, our_config] = BuildWithVk();
  auto [theirs, their_config] = BuildWithBuildah();
  std::set<std::string> skip = GetParam().skip;
  skip.insert("/");  // buildah writes no root entry
  EXPECT_EQ(image::testing::TreeDifferences(ours, theirs, skip), "");
  EXPECT_EQ(our_config.env, their_config.env);
  EXPECT_EQ(our_config.cmd, their_config.cmd);
  EXPECT_EQ(our_config.entrypoint, their_config.entrypoint);
  // docker (BuildKit) starts FROM scratch at WorkingDir "/"; buildah leaves
  // it unset. Both mean the root.
  std::string their_workdir = their_config.working_dir.empty() ? "/" : their_config.working_dir;
  EXPECT_EQ(our_config.working_dir, their_workdir);
  EXPECT_EQ(our_config.user, their_config.user);
}

INSTANTIATE_TEST_SUITE_P(Dockerfiles, BuildahConformance, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace vk::build
