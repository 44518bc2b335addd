#include "build/variables.h"

#include <gtest/gtest.h>

#include "build/dockerfile_parser.h"
#include "build/instruction_expansion.h"
#include "build/stage_graph.h"

namespace vk::build {
namespace {

const char kMultiStage[] =
    "ARG VERSION=12\n"
    "ARG TAG=${VERSION}-slim\n"
    "ARG UNUSED\n"
    "FROM debian:${TAG} AS base\n"
    "ARG VERSION PORTS\n"
    "ARG LOCAL=dir-${VERSION}\n"
    "ENV HOME_DIR=/home/$LOCAL PATH_=${PATH_:-/bin}\n"
    "WORKDIR $HOME_DIR/src\n"
    "COPY --chown=${USER_ID:-0}:0 a${VERSION}.txt \"${HOME_DIR}/xy\"\n"
    "COPY <<EOF /motd\n"
    "v=$VERSION '$LOCAL'\n"
    "EOF\n"
    "EXPOSE $PORTS\n"
    "LABEL version=\"$VERSION\"\n"
    "USER ${TAG}\n"
    "RUN --mount=type=cache,target=/cache/$LOCAL echo $VERSION\n"
    "FROM base AS test\n"
    "FROM scratch\n"
    "COPY --from=base /a /a\n"
    "RUN --mount=type=bind,from=test,target=/t true\n";

TEST(DockerfileScopeTest, GlobalArgsReachOnlyFromLines) {
  auto parsed = ParseDockerfile(kMultiStage);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  VariableMap build_args = {{"UNUSED", "given"}, {"PORTS", "80 443/udp"}, {"HTTP_PROXY", "p"}};
  VariableScope global = VariableScope::Global(build_args, {{"TARGETARCH", "amd64"}});
  for (const Instruction& arg : parsed->global_args) {
    ASSERT_TRUE(global.Declare(std::get<ArgInstruction>(arg.args), '\\').ok());
  }
  EXPECT_EQ(global.Get("TAG"), "12-slim");
  EXPECT_EQ(global.Get("UNUSED"), "given");
  EXPECT_EQ(global.Get("TARGETARCH"), "amd64");
  EXPECT_FALSE(global.Get("PORTS").has_value());  // never declared
  Stage stage = parsed->stages[0];
  ASSERT_TRUE(ExpandFrom(stage, global.Lookup(), '\\').ok());
  EXPECT_EQ(stage.base, "debian:12-slim");

  VariableScope scope = VariableScope::Stage(build_args, global, {{"PATH_", "/usr/bin"}});
  EXPECT_FALSE(scope.Get("TAG").has_value());  // a global ARG not re-declared is not visible
  std::vector<Instruction> steps = stage.instructions;
  auto lookup = scope.Lookup();
  for (Instruction& step : steps) {
    ASSERT_TRUE(ExpandInstruction(step, lookup, '\\').ok()) << step.text;
    if (auto* arg = std::get_if<ArgInstruction>(&step.args)) {
      ASSERT_TRUE(scope.Declare(*arg, '\\').ok());
    }
    if (auto* env = std::get_if<EnvInstruction>(&step.args)) scope.SetEnv(*env);
  }
  EXPECT_EQ(scope.Get("VERSION"), "12");  // re-declared without a default: the global value
  EXPECT_EQ(scope.Get("LOCAL"), "dir-12");
  EXPECT_EQ(scope.Get("HOME_DIR"), "/home/dir-12");
  EXPECT_EQ(scope.Get("PATH_"), "/usr/bin");  // from the image's environment
  EXPECT_EQ(std::get<WorkdirInstruction>(steps[3].args).path, "/home/dir-12/src");
  const auto& copy = std::get<CopyInstruction>(steps[4].args);
  EXPECT_EQ(copy.chown, "0:0");
  EXPECT_EQ(copy.sources, std::vector<std::string>{"a12.txt"});
  EXPECT_EQ(copy.destination, "/home/dir-12/xy");
  // Heredoc bodies expand variables but keep quotes.
  EXPECT_EQ(std::get<CopyInstruction>(steps[5].args).inline_sources[0].data, "v=12 'dir-12'\n");
  EXPECT_EQ(std::get<ExposeInstruction>(steps[6].args).ports,
            (std::vector<std::string>{"80", "443/udp"}));  // one word, two ports
  EXPECT_EQ(std::get<LabelInstruction>(steps[7].args).labels,
            (std::vector<KeyValue>{{"version", "12"}}));
  EXPECT_EQ(std::get<UserInstruction>(steps[8].args).user, "");  // TAG is global only
  const auto& run = std::get<RunInstruction>(steps[9].args);
  EXPECT_EQ(run.command.args[0], "echo $VERSION");  // RUN is left to the shell
  EXPECT_EQ(run.mounts[0].target, "/cache/dir-12");
}

TEST(DockerfileScopeTest, BuildArgOverridesDefaultAndLaterWriterWins) {
  VariableMap build_args = {{"MODE", "release"}};
  VariableScope global = VariableScope::Global(build_args, {});
  VariableScope scope = VariableScope::Stage(build_args, global, {});
  ASSERT_TRUE(scope.Declare({{{"MODE", "debug"}, {"OTHER", "${MODE}-x"}}}, '\\').ok());
  EXPECT_EQ(scope.Get("MODE"), "release");
  EXPECT_EQ(scope.Get("OTHER"), "release-x");
  scope.SetEnv({{{"MODE", "env"}}});
  EXPECT_EQ(scope.Get("MODE"), "env");
  ASSERT_TRUE(scope.Declare({{{"MODE", std::nullopt}}}, '\\').ok());
  EXPECT_EQ(scope.Get("MODE"), "release");
  EXPECT_TRUE(IsPredefinedArg("https_proxy"));
  EXPECT_FALSE(IsPredefinedArg("PROXY"));
}

TEST(DockerfileScopeTest, CopyFromRefusesVariables) {
  auto parsed = ParseDockerfile("FROM a\nCOPY --from=$STAGE /a /b\n");
  ASSERT_TRUE(parsed.ok());
  Instruction copy = parsed->stages[0].instructions[0];
  auto expanded = ExpandInstruction(copy, NoVariables(), '\\');
  ASSERT_FALSE(expanded.ok());
  EXPECT_EQ(expanded.error().message().rfind(
                "Dockerfile:2: variable expansion is not supported for --from", 0),
            0u);
}

TEST(DockerfileScopeTest, BlankBaseIsAnError) {
  auto parsed = ParseDockerfile("ARG IMAGE\nFROM $IMAGE\n");
  ASSERT_TRUE(parsed.ok());
  Stage stage = parsed->stages[0];
  auto expanded = ExpandFrom(stage, NoVariables(), '\\');
  ASSERT_FALSE(expanded.ok());
  EXPECT_EQ(
      expanded.error().message().rfind("Dockerfile:2: base name ($IMAGE) should not be blank", 0),
      0u);
}

TEST(DockerfileStageGraphTest, TargetsAndDependencies) {
  auto parsed = ParseDockerfile(kMultiStage);
  ASSERT_TRUE(parsed.ok());
  VariableMap none;
  VariableScope global = VariableScope::Global(none, {});
  for (const Instruction& arg : parsed->global_args) {
    ASSERT_TRUE(global.Declare(std::get<ArgInstruction>(arg.args), '\\').ok());
  }
  EXPECT_EQ(*ResolveTarget(*parsed, ""), 2u);
  EXPECT_EQ(*ResolveTarget(*parsed, "TEST"), 1u);
  auto missing = ResolveTarget(*parsed, "tset");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("did you mean test?"), std::string::npos);
  EXPECT_EQ(*StagesToBuild(*parsed, 2, global.Lookup()), (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(*StagesToBuild(*parsed, 1, global.Lookup()), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(*StagesToBuild(*parsed, 0, global.Lookup()), (std::vector<size_t>{0}));
  EXPECT_EQ(*StageReference(*parsed, "1"), std::optional<size_t>(1));
  EXPECT_EQ(*StageReference(*parsed, "alpine"), std::nullopt);
  EXPECT_FALSE(StageReference(*parsed, "7").ok());
}

TEST(DockerfileStageGraphTest, CycleIsAnError) {
  auto parsed = ParseDockerfile(
      "FROM a AS one\nCOPY --from=two /x /x\nFROM a AS two\nCOPY --from=one /y /y\n");
  ASSERT_TRUE(parsed.ok());
  auto order = StagesToBuild(*parsed, 1, NoVariables());
  ASSERT_FALSE(order.ok());
  EXPECT_NE(order.error().message().find("circular dependency"), std::string::npos);
}

TEST(DockerfileStageGraphTest, FromLaterStageNameIsAnImage) {
  auto parsed = ParseDockerfile("FROM later AS first\nFROM a AS later\n");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*StagesToBuild(*parsed, 0, NoVariables()), std::vector<size_t>{0});
}

}  // namespace
}  // namespace vk::build
