// End-to-end: `vk build` on a Debian base made by `vk image from-debian`,
// with RUN steps in microVMs. One test body shares the boots (each ~30 s or
// more on PVM hosts): a multi-stage build (a RUN writes a program and
// deletes a base file; the final stage copies the program, sets USER,
// WORKDIR, ENV, ENTRYPOINT), `vk run` of the result, a fully cached
// rebuild, a rebuild after one copied file changed, and a failing RUN with
// bind mounts.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "e2e/vk_process.h"

namespace vk::e2e {
namespace {

namespace fs = std::filesystem;

// The build stage's RUN checks its tmpfs mount and bakes a text derived
// from the secret (upper-cased) into the program: the secret's own bytes
// must appear nowhere in the store.
constexpr const char* kDockerfile = R"DF(FROM e2e-build-debian:local AS build
RUN --mount=type=tmpfs,target=/scratch --mount=type=secret,id=greet,required \
    grep -q ' /scratch tmpfs' /proc/mounts && echo scratch-data > /scratch/f && \
    grep -q scratch-data /scratch/f && \
    printf '#!/bin/sh\necho "hello from $(id -u) in $(pwd) with $GREETING: $(cat greeting.txt) %s"\n' \
    "$(tr a-z A-Z < /run/secrets/greet)" > /hello && chmod 755 /hello && rm /etc/debian_version

FROM e2e-build-debian:local AS final
COPY --from=build /hello /usr/local/bin/hello
COPY greeting.txt /app/greeting.txt
USER 1000:1000
WORKDIR /app
ENV GREETING=bonjour
ENTRYPOINT ["/usr/local/bin/hello"]

FROM build AS broken
RUN --mount=type=bind,source=greeting.txt,target=/bound/greeting.txt --mount=type=bind,target=/ctx \
    --mount=type=bind,from=final,source=/usr/local/bin/hello,target=/bound/hello \
    echo "bound: $(cat /bound/greeting.txt) $(grep -c OPEN-SESAME /bound/hello) $(ls /ctx | tr '\n' ,)"; \
    echo failing-now; exit 3
)DF";

// The secret's text; only its upper-cased form may reach the image.
constexpr const char* kSecret = "open-sesame-e2e";

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string Digest(const ProcessResult& r) { return r.out.substr(0, r.out.find('\n')); }

TEST(BuildTest, MultiStageBuildRunCacheAndFailure) {
  std::string reason = KvmUnavailableReason();
  if (!reason.empty()) GTEST_SKIP() << "needs /dev/kvm: " << reason;
  TempDir dir;
  ::setenv("VIRTKIT_HOME", (dir.path() + "/home").c_str(), 1);
  ProcessResult debian =
      RunVk({"image", "from-debian", "e2e-build-debian:local"}, "", std::chrono::seconds(900));
  ASSERT_EQ(debian.exit_code, 0) << debian.err;
  std::string context = dir.path() + "/context";
  fs::create_directories(context);
  std::ofstream(context + "/Dockerfile") << kDockerfile;
  std::ofstream(context + "/greeting.txt") << "greeting-v1";
  std::ofstream(context + "/ignored.txt") << "never in a bind";
  std::ofstream(context + "/.dockerignore") << "ignored.txt\n";
  const std::string secret = dir.path() + "/greet.txt";  // outside the context and the store
  std::ofstream(secret) << kSecret;
  auto build = [&](std::vector<std::string> extra) {
    std::vector<std::string> args{
        "build", "--progress", "plain", "--mem", "512M", "--secret", "id=greet,src=" + secret};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(context);
    return RunVk(args, "", std::chrono::seconds(900));
  };

  // Cold: the build stage's RUN boots one VM; the final stage none.
  ProcessResult first = build({"-t", "e2e-app:1", "--target", "final"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_NE(first.err.find("1 VMs booted"), std::string::npos) << first.err;

  // The result runs: the copied program as USER 1000 in WORKDIR with ENV,
  // and the text the RUN derived from the secret. One share (-v) like the
  // build's RUN VMs (the secrets' directory): the same warm template. The
  // --tmpfs must mount for the VM to start.
  ProcessResult run = RunVk({"run", "--mem", "512M", "-v", context + ":/ctx:ro", "--tmpfs",
                             "/cache:size=1m,mode=1777", "e2e-app:1"},
                            "", std::chrono::seconds(900));
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("hello from 1000 in /app with bonjour: greeting-v1 OPEN-SESAME-E2E"),
            std::string::npos)
      << run.out << run.err;

  // Again: every step CACHED, nothing booted, the same image.
  ProcessResult again = build({"-t", "e2e-app:1", "--target", "final"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("0 VMs booted"), std::string::npos) << again.err;
  EXPECT_EQ(Count(again.err, " CACHED"), 9u) << again.err;  // 2 FROM + 7 steps
  EXPECT_EQ(Count(again.err, " DONE"), 0u) << again.err;
  EXPECT_EQ(Digest(again), Digest(first));

  // The RUN's deletion is a whiteout: the build stage's base lacks the file.
  ProcessResult stage = build({"-t", "e2e-build-stage:1", "--target", "build"});
  ASSERT_EQ(stage.exit_code, 0) << stage.err;
  std::string base = Digest(RunVk({"image", "convert", "--pull", "never", "e2e-build-stage:1"}));
  ProcessResult deleted = RunProcess({"debugfs", "-R", "stat /etc/debian_version", base});
  EXPECT_NE(deleted.err.find("File not found"), std::string::npos) << deleted.out << deleted.err;
  ProcessResult kept = RunProcess({"debugfs", "-R", "stat /etc/os-release", base});
  EXPECT_EQ(kept.err.find("File not found"), std::string::npos) << kept.err;
  // The tmpfs's and the secret's mount points stay out of the layer.
  for (const char* path : {"/scratch", "/run/secrets", "/run/.vk-secrets"}) {
    ProcessResult absent = RunProcess({"debugfs", "-R", std::string("stat ") + path, base});
    EXPECT_NE(absent.err.find("File not found"), std::string::npos) << path << absent.out;
  }
  // Nor are the secret's bytes anywhere in the store (layers, configs,
  // cache entries, bases).
  ProcessResult grep = RunProcess({"grep", "-rl", kSecret, dir.path() + "/home"});
  EXPECT_EQ(grep.exit_code, 1) << grep.out << grep.err;

  // One copied file changed: its COPY and the steps after it run, no VM.
  std::ofstream(context + "/greeting.txt", std::ios::trunc) << "greeting-v2";
  ProcessResult edited = build({"-t", "e2e-app:1", "--target", "final"});
  ASSERT_EQ(edited.exit_code, 0) << edited.err;
  EXPECT_NE(edited.err.find("0 VMs booted"), std::string::npos) << edited.err;
  EXPECT_NE(edited.err.find("7 steps, 2 cached"), std::string::npos) << edited.err;

  // A failing RUN: its output and exit code, and vk build fails. Its bind
  // mounts show a context file, the context without what .dockerignore
  // names, and a file of another stage (from=). One virtio-fs share holds
  // them all, so the RUN restores the same template as the others.
  ProcessResult broken = build({"--target", "broken"});
  EXPECT_EQ(broken.exit_code, 1) << broken.err;
  EXPECT_NE(broken.err.find("bound: greeting-v2 1 Dockerfile,greeting.txt,"), std::string::npos)
      << broken.err;
  EXPECT_NE(broken.err.find("failing-now"), std::string::npos) << broken.err;
  EXPECT_NE(broken.err.find("exit code: 3"), std::string::npos) << broken.err;
  ::unsetenv("VIRTKIT_HOME");
}

}  // namespace
}  // namespace vk::e2e
