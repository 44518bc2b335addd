#include "build/dockerfile_parser.h"

#include <gtest/gtest.h>

namespace vk::build {
namespace {

// Parses "FROM base\n" + body and returns the first instruction's arguments.
template <typename T>
T Only(const std::string& body) {
  auto parsed = ParseDockerfile("FROM base\n" + body);
  EXPECT_TRUE(parsed.ok()) << body << ": " << parsed.error().message();
  if (!parsed.ok() || parsed->stages[0].instructions.empty()) return T{};
  const InstructionArgs& args = parsed->stages[0].instructions[0].args;
  EXPECT_TRUE(std::holds_alternative<T>(args)) << body;
  return std::holds_alternative<T>(args) ? std::get<T>(args) : T{};
}

CommandLine Shell(std::string text) { return {CommandForm::kShell, {std::move(text)}}; }
CommandLine Exec(std::vector<std::string> args) { return {CommandForm::kExec, std::move(args)}; }

TEST(DockerfileParserTest, Stages) {
  auto parsed = ParseDockerfile(
      "ARG VERSION=1.0\n"
      "ARG BASE\n"
      "FROM --platform=$BUILDPLATFORM golang:${VERSION} AS Build\n"
      "RUN make\n"
      "from scratch\n"
      "COPY --from=build /out /\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  ASSERT_EQ(parsed->global_args.size(), 2u);
  EXPECT_EQ(std::get<ArgInstruction>(parsed->global_args[0].args).args,
            (std::vector<ArgDeclaration>{{"VERSION", "1.0"}}));
  EXPECT_EQ(std::get<ArgInstruction>(parsed->global_args[1].args).args,
            (std::vector<ArgDeclaration>{{"BASE", std::nullopt}}));
  ASSERT_EQ(parsed->stages.size(), 2u);
  const Stage& build = parsed->stages[0];
  EXPECT_EQ(build.base, "golang:${VERSION}");
  EXPECT_EQ(build.platform, "$BUILDPLATFORM");
  EXPECT_EQ(build.name, "build");
  EXPECT_EQ(build.index, 0u);
  EXPECT_EQ(build.lines, (LineRange{3, 3}));
  ASSERT_EQ(build.instructions.size(), 1u);
  EXPECT_EQ(build.instructions[0].text, "RUN make");
  EXPECT_EQ(build.instructions[0].lines, (LineRange{4, 4}));
  const Stage& final_stage = parsed->stages[1];
  EXPECT_EQ(final_stage.base, "scratch");
  EXPECT_EQ(final_stage.name, "");
  EXPECT_EQ(final_stage.index, 1u);
  EXPECT_EQ(std::get<CopyInstruction>(final_stage.instructions[0].args).from, "build");
}

TEST(DockerfileParserTest, RunForms) {
  EXPECT_EQ(Only<RunInstruction>("RUN echo hi").command, Shell("echo hi"));
  EXPECT_EQ(Only<RunInstruction>("RUN [\"echo\", \"hi\"]").command, Exec({"echo", "hi"}));
  EXPECT_EQ(Only<RunInstruction>("RUN [\"echo\", \"say \\\"hi\\\"\", \"\\u00e9\"]").command,
            Exec({"echo", "say \"hi\"", "\xC3\xA9"}));
  // Not JSON: the shell form, as docker does.
  EXPECT_EQ(Only<RunInstruction>("RUN [\"echo\", 'hi']").command, Shell("[\"echo\", 'hi']"));
  EXPECT_EQ(Only<RunInstruction>("RUN [\"unterminated\"").command, Shell("[\"unterminated\""));
  EXPECT_EQ(Only<CmdInstruction>("CMD [\"a\"] trailing").command, Shell("[\"a\"] trailing"));
  EXPECT_EQ(Only<CmdInstruction>("CMD []").command, Exec({}));
  EXPECT_EQ(Only<EntrypointInstruction>("ENTRYPOINT /bin/app --flag").command,
            Shell("/bin/app --flag"));
  // Continuation with a JSON array split over lines.
  EXPECT_EQ(Only<CmdInstruction>("CMD [\"a\", \\\n  \"b\"]").command, Exec({"a", "b"}));
}

TEST(DockerfileParserTest, RunFlags) {
  RunInstruction run = Only<RunInstruction>(
      "RUN --mount=type=cache,target=/root/.cache,id=pip,sharing=locked "
      "--mount=type=bind,from=build,source=/out,target=/in "
      "--mount=type=tmpfs,target=/tmp,size=64m "
      "--mount=type=secret,id=token,env=TOKEN,required "
      "--network=none --security=insecure make");
  EXPECT_EQ(run.command, Shell("make"));
  EXPECT_EQ(run.network, NetworkMode::kNone);
  EXPECT_EQ(run.security, SecurityMode::kInsecure);
  ASSERT_EQ(run.mounts.size(), 4u);
  EXPECT_EQ(run.mounts[0].type, MountType::kCache);
  EXPECT_EQ(run.mounts[0].target, "/root/.cache");
  EXPECT_EQ(run.mounts[0].id, "pip");
  EXPECT_EQ(run.mounts[0].sharing, MountSharing::kLocked);
  EXPECT_FALSE(run.mounts[0].read_only);
  EXPECT_EQ(run.mounts[1].type, MountType::kBind);
  EXPECT_EQ(run.mounts[1].from, "build");
  EXPECT_EQ(run.mounts[1].source, "/out");
  EXPECT_TRUE(run.mounts[1].read_only);
  EXPECT_EQ(run.mounts[2].size, 64u << 20);
  EXPECT_EQ(run.mounts[3].type, MountType::kSecret);
  EXPECT_EQ(run.mounts[3].env, "TOKEN");
  EXPECT_TRUE(run.mounts[3].required);
  // A value with a variable waits for the builder's expansion.
  EXPECT_EQ(Only<RunInstruction>("RUN --mount=type=cache,target=$DIR,mode=0700 x").mounts[0].target,
            "$DIR");
}

TEST(DockerfileParserTest, SecretAndTmpfsMountOptions) {
  RunInstruction run = Only<RunInstruction>(
      "RUN --mount=type=secret,id=npm,target=/root/.npmrc,mode=0440,uid=1000,gid=1001 "
      "--mount=type=secret,source=aws --mount=type=tmpfs,dst=/scratch --mount=type=ssh make");
  ASSERT_EQ(run.mounts.size(), 4u);
  EXPECT_EQ(run.mounts[0].target, "/root/.npmrc");
  EXPECT_EQ(run.mounts[0].mode, 0440u);
  EXPECT_EQ(run.mounts[0].uid, 1000u);
  EXPECT_EQ(run.mounts[0].gid, 1001u);
  EXPECT_FALSE(run.mounts[0].required);
  EXPECT_EQ(run.mounts[1].source, "aws");  // source= names the secret
  EXPECT_TRUE(run.mounts[1].read_only);
  EXPECT_EQ(run.mounts[2].type, MountType::kTmpfs);
  EXPECT_EQ(run.mounts[2].target, "/scratch");
  EXPECT_FALSE(run.mounts[2].size.has_value());
  EXPECT_FALSE(run.mounts[2].read_only);
  EXPECT_EQ(run.mounts[3].type, MountType::kSsh);
}

TEST(DockerfileParserTest, RunHeredoc) {
  auto parsed = ParseDockerfile("FROM a\nRUN <<EOF bash\nset -e\necho $HOME\nEOF\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  const Instruction& instruction = parsed->stages[0].instructions[0];
  const RunInstruction& run = std::get<RunInstruction>(instruction.args);
  EXPECT_EQ(run.command, Shell("<<EOF bash"));
  ASSERT_EQ(run.heredocs.size(), 1u);
  EXPECT_EQ(run.heredocs[0].content, "set -e\necho $HOME\n");
  EXPECT_EQ(instruction.lines, (LineRange{2, 5}));
  EXPECT_EQ(instruction.CacheText(), "RUN <<EOF bash\nset -e\necho $HOME\nEOF");
}

TEST(DockerfileParserTest, CopyAndAdd) {
  CopyInstruction copy = Only<CopyInstruction>(
      "COPY --from=0 --chown=app:app --chmod=0755 --link --parents --exclude=*.md "
      "--exclude=tmp a b /dst/");
  EXPECT_EQ(copy.sources, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(copy.destination, "/dst/");
  EXPECT_EQ(copy.from, "0");
  EXPECT_EQ(copy.chown, "app:app");
  EXPECT_EQ(copy.chmod, "0755");
  EXPECT_TRUE(copy.link);
  EXPECT_TRUE(copy.parents);
  EXPECT_EQ(copy.excludes, (std::vector<std::string>{"*.md", "tmp"}));
  EXPECT_EQ(Only<CopyInstruction>("COPY [\"with space\", \"/d\"]").sources,
            std::vector<std::string>{"with space"});
  CopyInstruction inline_copy =
      Only<CopyInstruction>("COPY <<-EOF /etc/motd\n\thello $USER\n\tEOF");
  EXPECT_TRUE(inline_copy.sources.empty());
  EXPECT_EQ(inline_copy.inline_sources,
            (std::vector<InlineSource>{{"EOF", "hello $USER\n", true}}));
  EXPECT_EQ(Only<CopyInstruction>("COPY <<'EOF' /x\n$HOME\nEOF").inline_sources[0].expand, false);
  AddInstruction add = Only<AddInstruction>(
      "ADD --checksum=sha256:abc --keep-git-dir=false --unpack https://x/y.tgz /opt/");
  EXPECT_EQ(add.checksum, "sha256:abc");
  EXPECT_EQ(add.keep_git_dir, false);
  EXPECT_EQ(add.unpack, true);
  EXPECT_EQ(add.sources, std::vector<std::string>{"https://x/y.tgz"});
  EXPECT_FALSE(Only<AddInstruction>("ADD a /b").keep_git_dir.has_value());
}

TEST(DockerfileParserTest, EnvLabelArg) {
  EXPECT_EQ(Only<EnvInstruction>("ENV A=1 B=\"two words\" C=three\\ words").vars,
            (std::vector<KeyValue>{{"A", "1"}, {"B", "\"two words\""}, {"C", "three\\ words"}}));
  EXPECT_EQ(Only<EnvInstruction>("ENV LEGACY value with  spaces").vars,
            (std::vector<KeyValue>{{"LEGACY", "value with  spaces"}}));
  EXPECT_EQ(Only<EnvInstruction>("ENV EMPTY=").vars, (std::vector<KeyValue>{{"EMPTY", ""}}));
  EXPECT_EQ(Only<LabelInstruction>("LABEL \"com.example.v\"=\"1 0\" x=y").labels,
            (std::vector<KeyValue>{{"\"com.example.v\"", "\"1 0\""}, {"x", "y"}}));
  EXPECT_EQ(
      Only<ArgInstruction>("ARG A B=2 C= \"D=x y\"").args,
      (std::vector<ArgDeclaration>{{"A", std::nullopt}, {"B", "2"}, {"C", ""}, {"\"D", "x y\""}}));
}

TEST(DockerfileParserTest, SimpleInstructions) {
  EXPECT_EQ(Only<WorkdirInstruction>("WORKDIR /app dir").path, "/app dir");
  EXPECT_EQ(Only<UserInstruction>("USER app:app").user, "app:app");
  EXPECT_EQ(Only<StopSignalInstruction>("STOPSIGNAL SIGTERM").signal, "SIGTERM");
  EXPECT_EQ(Only<MaintainerInstruction>("MAINTAINER Jo <jo@x>").maintainer, "Jo <jo@x>");
  EXPECT_EQ(Only<ExposeInstruction>("EXPOSE 8080/tcp 53/udp 7000-7010").ports,
            (std::vector<std::string>{"53/udp", "7000-7010", "8080/tcp"}));
  EXPECT_EQ(Only<VolumeInstruction>("VOLUME /a /b").paths, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(Only<VolumeInstruction>("VOLUME [\"/data\"]").paths, std::vector<std::string>{"/data"});
  EXPECT_EQ(Only<ShellInstruction>("SHELL [\"/bin/bash\", \"-c\"]").shell,
            (std::vector<std::string>{"/bin/bash", "-c"}));
}

TEST(DockerfileParserTest, Healthcheck) {
  HealthcheckInstruction health = Only<HealthcheckInstruction>(
      "HEALTHCHECK --interval=30s --timeout=1m30s --start-period=1.5s --start-interval=250ms "
      "--retries=3 CMD curl -f http://localhost/");
  EXPECT_EQ(health.test, (std::vector<std::string>{"CMD-SHELL", "curl -f http://localhost/"}));
  EXPECT_EQ(health.interval, std::chrono::seconds(30));
  EXPECT_EQ(health.timeout, std::chrono::seconds(90));
  EXPECT_EQ(health.start_period, std::chrono::milliseconds(1500));
  EXPECT_EQ(health.start_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(health.retries, 3);
  EXPECT_EQ(Only<HealthcheckInstruction>("HEALTHCHECK CMD [\"/bin/check\", \"-q\"]").test,
            (std::vector<std::string>{"CMD", "/bin/check", "-q"}));
  EXPECT_EQ(Only<HealthcheckInstruction>("HEALTHCHECK none").test,
            std::vector<std::string>{"NONE"});
}

TEST(DockerfileParserTest, Onbuild) {
  OnbuildInstruction onbuild = Only<OnbuildInstruction>("ONBUILD RUN --network=none make install");
  EXPECT_EQ(onbuild.expression, "RUN --network=none make install");
  ASSERT_EQ(onbuild.trigger.size(), 1u);
  EXPECT_EQ(std::get<RunInstruction>(onbuild.trigger[0].args).network, NetworkMode::kNone);
  OnbuildInstruction with_heredoc = Only<OnbuildInstruction>("ONBUILD COPY <<EOF /f\nhi\nEOF");
  EXPECT_EQ(with_heredoc.expression, "COPY <<EOF /f\nhi\nEOF");
  EXPECT_EQ(std::get<CopyInstruction>(with_heredoc.trigger[0].args).inline_sources[0].data, "hi\n");
}

struct ErrorCase {
  const char* input;
  const char* prefix;  // the message starts with it
};

TEST(DockerfileParserTest, ErrorsNameTheLine) {
  const ErrorCase cases[] = {
      {"", "Dockerfile:1: file with no instructions"},
      {"# only a comment\n", "Dockerfile:1: file with no instructions"},
      {"ARG A\n", "Dockerfile:1: no FROM instruction"},
      {"RUN x\nFROM a\n", "Dockerfile:1: RUN before the first FROM"},
      {"FROM a\nFORM b\n", "Dockerfile:2: unknown instruction: FORM (did you mean FROM?)"},
      {"FROM a\nRUNN x\n", "Dockerfile:2: unknown instruction: RUNN (did you mean RUN?)"},
      {"FROM a\n\nCOPY --form=x a b\n",
       "Dockerfile:3: unknown flag: --form (did you mean --from?)"},
      {"FROM a\nWORKDIR --x=1 /a\n", "Dockerfile:2: unknown flag: --x"},
      {"FROM a\nCOPY onlyone\n", "Dockerfile:2: COPY requires at least two arguments"},
      {"FROM a\nCOPY a <<EOF\nx\nEOF\n",
       "Dockerfile:2: COPY cannot accept a heredoc as a destination"},
      {"FROM a\nRUN <<EOF\nno end\n", "Dockerfile:2: unterminated heredoc EOF"},
      {"FROM a\nENV\n", "Dockerfile:2: ENV requires at least one argument"},
      {"FROM a\nENV A\n", "Dockerfile:2: ENV must have two arguments"},
      {"FROM a\nENV A=1 B\n", "Dockerfile:2: syntax error - can't find = in \"B\""},
      {"FROM a\nENV =1\n", "Dockerfile:2: ENV names can not be blank"},
      {"FROM a\nARG =1\n", "Dockerfile:2: ARG names can not be blank"},
      {"FROM a\nWORKDIR\n", "Dockerfile:2: WORKDIR requires exactly one argument"},
      {"FROM a\nSHELL /bin/sh -c\n",
       "Dockerfile:2: SHELL requires the arguments to be in JSON form"},
      {"FROM a\nCMD [1, 2]\n", "Dockerfile:2: when using JSON array syntax"},
      {"FROM a\nRUN --network=bridge x\n", "Dockerfile:2: invalid network mode \"bridge\""},
      {"FROM a\nRUN --mount=type=nfs x\n",
       "Dockerfile:2: --mount=type=nfs: unsupported mount type"},
      {"FROM a\nRUN --mount=type=cache,sharing=wide,target=/c x\n", "Dockerfile:2: --mount="},
      {"FROM a\nRUN --mount=type=bind,mode=0700,target=/x x\n", "Dockerfile:2: --mount="},
      {"FROM a\nRUN --mount=type=secret x\n",
       "Dockerfile:2: --mount=type=secret: invalid secret mount"},
      {"FROM a\nRUN --mount=from=$X,target=/x x\n", "Dockerfile:2: --mount="},
      {"FROM a\nRUN --mount=tagret=/x x\n",
       "Dockerfile:2: --mount=tagret=/x: unexpected key 'tagret' in --mount (did you mean "
       "target?)"},
      {"FROM a\nCOPY --link=maybe a b\n", "Dockerfile:2: expecting boolean value for flag --link"},
      {"FROM a\nCOPY --from a b\n", "Dockerfile:2: missing a value on flag: --from"},
      {"FROM a\nCOPY --chown=a --chown=b a b\n", "Dockerfile:2: duplicate flag specified: --chown"},
      {"FROM a\nHEALTHCHECK CMD\n", "Dockerfile:2: missing command after HEALTHCHECK CMD"},
      {"FROM a\nHEALTHCHECK NONE x\n", "Dockerfile:2: HEALTHCHECK NONE takes no arguments"},
      {"FROM a\nHEALTHCHECK EXEC x\n", "Dockerfile:2: unknown type \"EXEC\" in HEALTHCHECK"},
      {"FROM a\nHEALTHCHECK --interval=1us CMD x\n",
       "Dockerfile:2: --interval cannot be less than 1ms"},
      {"FROM a\nHEALTHCHECK --interval=soon CMD x\n", "Dockerfile:2: --interval: invalid duration"},
      {"FROM a\nHEALTHCHECK --retries=-1 CMD x\n", "Dockerfile:2: --retries cannot be negative"},
      {"FROM a\nEXPOSE 80/xtp\n", "Dockerfile:2: invalid port \"80/xtp\""},
      {"FROM a\nEXPOSE 70000\n", "Dockerfile:2: invalid port \"70000\""},
      {"FROM a\nVOLUME [\"\"]\n", "Dockerfile:2: VOLUME specified can not be an empty string"},
      {"FROM a\nONBUILD ONBUILD RUN x\n", "Dockerfile:2: chaining ONBUILD"},
      {"FROM a\nONBUILD FROM b\n", "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"},
      {"FROM a\nONBUILD MAINTAINER me\n",
       "Dockerfile:2: MAINTAINER isn't allowed as an ONBUILD trigger"},
      {"FROM a\nONBUILD RUNN x\n", "Dockerfile:2: in ONBUILD trigger: unknown instruction: RUNN"},
      {"FROM a b\n", "Dockerfile:1: FROM requires either one or three arguments"},
      {"FROM a AS 1st\n", "Dockerfile:1: invalid name for build stage: \"1st\""},
      {"FROM --plaform=x a\n", "Dockerfile:1: unknown flag: --plaform (did you mean --platform?)"},
      {"FROM a AS x\nFROM b AS X\n", "Dockerfile:2: duplicate stage name \"x\" (also on line 1)"},
      {"FROM a\nRUN a \\\n  b\nRUN --bad x\n", "Dockerfile:4: unknown flag: --bad"},
  };
  for (const ErrorCase& c : cases) {
    auto parsed = ParseDockerfile(c.input);
    ASSERT_FALSE(parsed.ok()) << c.input;
    EXPECT_EQ(parsed.error().kind(), ErrorKind::kUsage) << c.input;
    EXPECT_EQ(parsed.error().message().rfind(c.prefix, 0), 0u)
        << c.input << "\n  got: " << parsed.error().message() << "\n  want: " << c.prefix;
  }
}

TEST(DockerfileParserTest, ErrorsSayHowToFix) {
  auto parsed = ParseDockerfile("FROM a\nCOPY x\n", "app.Dockerfile");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().message(),
            "app.Dockerfile:2: COPY requires at least two arguments, but only 1 was provided; "
            "give the sources and then the destination");
}

TEST(DockerfileParserTest, CaseInsensitiveInstructions) {
  auto parsed = ParseDockerfile("from alpine as Base\nrun echo\nCoPy a b\n");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->stages[0].name, "base");
  EXPECT_EQ(parsed->stages[0].instructions[0].keyword, "run");
  EXPECT_TRUE(std::holds_alternative<CopyInstruction>(parsed->stages[0].instructions[1].args));
}

}  // namespace
}  // namespace vk::build
