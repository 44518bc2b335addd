// `vk gitlab` end to end: the runner harness drives real job VMs from a
// Debian image with git and make (`vk image from-debian`, built once per
// run, or reused from VK_GITLAB_E2E_HOME). Few boots: two full jobs, which
// overlap to check that concurrent jobs are isolated, and one prepare killed
// while its VM starts.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "e2e/vk_process.h"
#include "gitlab/runner_harness.h"

namespace vk::gitlab_test {
namespace {

namespace fs = std::filesystem;
using e2e::ProcessResult;
using e2e::RunProcess;
using e2e::RunVk;

constexpr char kImage[] = "gitlab-e2e:local";

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A bare repository with a Makefile, served by `git daemon` on loopback
// (the guest reaches it as host.lan).
class GitServer {
 public:
  explicit GitServer(const std::string& root) : port_(e2e::FreeLoopbackPort()) {
    const std::string work = root + "/work";
    fs::create_directories(work);
    std::ofstream(work + "/Makefile")
        << "out/result.txt: input.txt\n"
           "\tmkdir -p out && tr a-z A-Z < input.txt > out/result.txt\n";
    std::ofstream(work + "/input.txt") << "built in a microvm\n";
    Git({"-C", work, "init", "-q", "-b", "main"});
    Git({"-C", work, "add", "."});
    Git({"-C", work, "-c", "user.name=ci", "-c", "user.email=ci@example.com", "commit", "-q", "-m",
         "project"});
    sha_ = RunProcess({"git", "-C", work, "rev-parse", "HEAD"}).out;
    sha_.erase(sha_.find_last_not_of('\n') + 1);
    Git({"clone", "-q", "--bare", work, root + "/repos/project.git"});
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string base = "--base-path=" + root + "/repos";
      const std::string port = "--port=" + std::to_string(port_);
      ::execlp("git", "git", "daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1",
               port.c_str(), base.c_str(), (root + "/repos").c_str(), nullptr);
      ::_exit(127);
    }
  }
  ~GitServer() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  std::string url() const { return "git://host.lan:" + std::to_string(port_) + "/project.git"; }
  const std::string& sha() const { return sha_; }
  uint16_t port() const { return port_; }

 private:
  static void Git(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"git"};
    argv.insert(argv.end(), args.begin(), args.end());
    ProcessResult r = RunProcess(argv);
    if (r.exit_code != 0) throw std::runtime_error("git failed: " + r.err);
  }
  uint16_t port_;
  pid_t pid_ = -1;
  std::string sha_;
};

class GitlabE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!e2e::KvmUnavailableReason().empty()) return;
    const char* reuse = std::getenv("VK_GITLAB_E2E_HOME");
    temp_ = new e2e::TempDir();
    home_ = reuse != nullptr && *reuse != '\0' ? reuse : temp_->path() + "/home";
    ::setenv("VIRTKIT_HOME", home_.c_str(), 1);
    build_error_ = e2e::EnsureDebianImage(kImage, "git,make");
  }
  static void TearDownTestSuite() {
    ::unsetenv("VIRTKIT_HOME");
    delete temp_;
    temp_ = nullptr;
  }
  void SetUp() override {
    std::string reason = e2e::KvmUnavailableReason();
    if (!reason.empty()) GTEST_SKIP() << "needs /dev/kvm: " << reason;
    ASSERT_EQ(build_error_, "") << "building " << kImage;
    work_ = temp_->path() + "/" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(work_);
    config_ = work_ + "/gitlab.toml";
    WriteConfig("");
  }

  void WriteConfig(const std::string& extra) {
    // Job VMs restore the warm template of their shape (1 vCPU, 256 MiB:
    // the other e2e tests' shape, so it is usually made already); small
    // guests, and generous time for loaded hosts.
    std::ofstream(config_) << "default_image = \"" << kImage << "\"\n"
                           << "boot_timeout = \"30m\"\nmemory = \"256M\"\n"
                           << "cache_dir = \"" << work_ << "/cache\"\n"
                           << "artifacts_dir = \"" << work_ << "/artifacts\"\n"
                           << extra;
  }

  FakeRunner Runner(const std::string& job_id, std::map<std::string, std::string> variables) {
    Job job;
    job.id = job_id;
    job.variables = std::move(variables);
    return FakeRunner({VK_BINARY, "gitlab"}, {"--config", config_}, job);
  }

  // Nothing of the job is left: no VM, no VM state, no job state.
  static void ExpectNothingLeft(const std::string& name) {
    EXPECT_FALSE(fs::exists(e2e::VmDirectoryForTest(name))) << name;
    EXPECT_FALSE(fs::exists(home_ + "/gitlab/jobs/" + name)) << name;
    ProcessResult ps = RunVk({"ps"});  // every named VM, ended ones too
    EXPECT_EQ(ps.exit_code, 0) << ps.err;
    EXPECT_EQ(ps.out.find(name), std::string::npos) << ps.out;
  }

  static inline e2e::TempDir* temp_ = nullptr;
  static inline std::string home_;
  static inline std::string build_error_;
  std::string work_;
  std::string config_;
};

// The stages a job runs, as the runner would send them; the cache and
// artifact stages stand in for gitlab-runner's cache-archiver and
// artifacts-uploader (which need the runner binary in the image) with
// copies into the shared directories.
const char kGetSources[] =
    "echo 'Fetching changes...'\n"
    "mkdir -p \"$CI_PROJECT_DIR\"\ncd \"$CI_PROJECT_DIR\"\n"
    "git init -q .\ngit remote add origin \"$CI_REPOSITORY_URL\"\n"
    "git fetch -q origin '+refs/heads/*:refs/remotes/origin/*'\n"
    "echo \"Checking out $CI_COMMIT_SHA as detached HEAD\"\n"
    "git -c advice.detachedHead=false checkout -f -q \"$CI_COMMIT_SHA\"\n";
const char kRestoreCache[] =
    "if [ -f /cache/group/project/default/result.txt ]; then\n"
    "  echo \"cache: $(cat /cache/group/project/default/result.txt)\"\n"
    "else echo 'cache: none'; fi\n";

// A TCP tool for the isolation check, in perl (perl-base is in every
// Debian image; the image has no netcat): `address` prints the guest's LAN
// address (a UDP socket towards the gateway, which sends nothing), `serve`
// accepts on port 7777 and prints each peer, `probe ADDR...` connects
// to each and prints "ADDR open: GREETING" or "ADDR closed".
const char kNetTool[] = R"tool(cat > /tmp/net.pl <<'EOF'
use IO::Socket::INET;
$| = 1;
my ($mode, @addresses) = @ARGV;
if ($mode eq 'address') {
  my $u = IO::Socket::INET->new(Proto => 'udp', PeerAddr => '192.168.127.1:53') or die $!;
  print $u->sockhost, "\n";
  exit 0;
}
if ($mode eq 'serve') {
  my $s = IO::Socket::INET->new(LocalPort => 7777, Listen => 8, ReuseAddr => 1) or die $!;
  while (my $c = $s->accept) {
    print $c->peerhost, "\n";
    print $c "hello from job $ENV{CI_JOB_ID}\n";
    close $c;
  }
}
for my $addr (@addresses) {
  my $c = IO::Socket::INET->new(PeerAddr => $addr, PeerPort => 7777, Timeout => 5);
  if ($c) { my $l = <$c>; chomp $l; print "$addr open: $l\n"; } else { print "$addr closed\n"; }
}
EOF
)tool";

// Which of job A's files a job sees: A's positive control, B's check.
const char kFilesCheck[] =
    "for f in /tmp/secret-A /builds/secret-A /builds/group/project/Makefile; do\n"
    "  if [ -e \"$f\" ]; then echo \"sees $f\"; fi\n"
    "done\n";

// Job A's side, once both VMs run: files on its scratch disk (/builds; /tmp
// too, whatever backs it), a server on its LAN address, and the probe of
// it from A itself, which shows the server up and the probe able to see it.
std::string ServeStage() {
  return std::string(kNetTool) +
         "echo secret-A > /tmp/secret-A\n"
         "echo secret-A > /builds/secret-A\n" +
         kFilesCheck +
         "setsid perl /tmp/net.pl serve > /tmp/peers.log 2>&1 < /dev/null &\n"
         "address=$(perl /tmp/net.pl address)\n"
         "echo \"address $address\"\n"
         "echo \"mac $(cat /sys/class/net/eth0/address)\"\n"
         // Under load the server may take a while to listen.
         "for i in $(seq 120); do\n"
         "  perl /tmp/net.pl probe \"$address\" > /tmp/self\n"
         "  if grep -q open /tmp/self; then break; fi\n"
         "  sleep 1\n"
         "done\n"
         "cat /tmp/self\n";
}

// Job B's side: A's files, and A's server at A's address and at the first
// addresses of a LAN (where A would be if the two shared one), then B's
// neighbours. Each job VM's LAN is its own, so A's address is B's too
// (.2): B's probe of it must find B's own closed port.
std::string ProbeStage(const std::string& a_address) {
  std::vector<std::string> targets = {a_address};
  for (const char* lan : {"192.168.127.2", "192.168.127.3", "192.168.127.4", "192.168.127.5"}) {
    if (lan != a_address) targets.push_back(lan);
  }
  std::string probe = "perl /tmp/net.pl probe";
  for (const std::string& target : targets) probe += " " + target;
  return std::string(kNetTool) + kFilesCheck + probe + "\necho arp\ncat /proc/net/arp\n";
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The first word after `key ` in `text` ("" when absent).
std::string Field(const std::string& text, const std::string& key) {
  size_t at = text.find(key + " ");
  if (at == std::string::npos) return "";
  at += key.size() + 1;
  return text.substr(at, text.find_first_of(" \n", at) - at);
}

// A job removed however the test ends: a failed assertion must not leave
// its VM running (cleanup is idempotent, so the job's own cleanup stays).
class CleanupAtExit {
 public:
  explicit CleanupAtExit(FakeRunner* runner) : runner_(runner) {}  // not owned
  ~CleanupAtExit() { runner_->Cleanup(); }
  CleanupAtExit(const CleanupAtExit&) = delete;
  CleanupAtExit& operator=(const CleanupAtExit&) = delete;

 private:
  FakeRunner* runner_;
};

// Two jobs of one project and image on the host at once: job A (2001) runs
// a whole job while job B (2002) prepares beside it. With both up, A leaves
// files and serves TCP on its LAN address, and B must see neither: each
// job has its own VM, scratch disk and LAN. Then A ends, and B goes on as
// the project's next job (A's cache, a failing script, its VM killed).
TEST_F(GitlabE2eTest, JobsCloneBuildShareCacheAndFail) {
  e2e::TempDir git_root;
  GitServer git(git_root.path());
  WriteConfig("host_ports = [" + std::to_string(git.port()) + "]\n");
  std::map<std::string, std::string> variables = {
      {"CI_PROJECT_DIR", "/builds/group/project"},
      {"CI_REPOSITORY_URL", git.url()},
      {"CI_COMMIT_SHA", git.sha()},
  };
  FakeRunner job_a = Runner("2001", variables);
  FakeRunner job_b = Runner("2002", variables);
  CleanupAtExit remove_a(&job_a);
  CleanupAtExit remove_b(&job_b);
  ASSERT_EQ(job_a.Config().exit_code, 0);
  ASSERT_EQ(job_b.Config().exit_code, 0);
  const std::string name_a = job_a.job_env().at("VK_GITLAB_VM");
  const std::string name_b = job_b.job_env().at("VK_GITLAB_VM");
  ASSERT_NE(name_a, name_b);
  CallResult prepared = job_a.Prepare();
  ASSERT_EQ(prepared.exit_code, 0) << prepared.err;
  // B boots while A works (declared after the guards: it is waited for
  // before they run).
  std::future<CallResult> prepared_b =
      std::async(std::launch::async, [&] { return job_b.Prepare(); });
  {
    CallResult r = job_a.Run("prepare_script", "echo \"Running on $(hostname)\"\n");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, "Running on " + name_a + "\n");
    r = job_a.Run("get_sources", kGetSources);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    r = job_a.Run("restore_cache", kRestoreCache);
    EXPECT_EQ(r.out, "cache: none\n") << r.err;
    r = job_a.Run("build_script", "cd \"$CI_PROJECT_DIR\"\nmake\n");
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    r = job_a.Run("archive_cache",
                  "mkdir -p /cache/group/project/default\n"
                  "cp \"$CI_PROJECT_DIR/out/result.txt\" /cache/group/project/default/\n");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    r = job_a.Run("upload_artifacts_on_success",
                  "cp \"$CI_PROJECT_DIR/out/result.txt\" /artifacts/\n");
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  prepared = prepared_b.get();
  ASSERT_EQ(prepared.exit_code, 0) << prepared.err;
  {
    CallResult served = job_a.Run("step_serve", ServeStage());
    ASSERT_EQ(served.exit_code, 0) << served.out << served.err;
    const std::string address = Field(served.out, "address");
    const std::string mac = Field(served.out, "mac");
    ASSERT_NE(address, "") << served.out;
    ASSERT_NE(mac, "") << served.out;
    // The controls: A sees its files and reaches its own server.
    EXPECT_EQ(Count(served.out, "sees "), 3u) << served.out;
    EXPECT_NE(served.out.find(address + " open: hello from job 2001"), std::string::npos)
        << served.out;
    CallResult probed = job_b.Run("step_probe", ProbeStage(address));
    ASSERT_EQ(probed.exit_code, 0) << probed.out << probed.err;
    EXPECT_EQ(Count(probed.out, "sees "), 0u) << "B sees A's files:\n" << probed.out;
    EXPECT_EQ(Count(probed.out, " open"), 0u) << "B reaches A's server:\n" << probed.out;
    EXPECT_GE(Count(probed.out, " closed"), 4u) << probed.out;  // every probe ran
    // B never heard from A's interface: their LANs are not one segment.
    const std::string arp =
        probed.out.substr(std::min(probed.out.find("arp\n"), probed.out.size()));
    EXPECT_NE(arp, "") << probed.out;
    EXPECT_EQ(arp.find(mac), std::string::npos) << "A's MAC " << mac << " in B's ARP table:\n"
                                                << probed.out;
    // A's server: only A's own probe reached it.
    CallResult peers = job_a.Run("after_script", "cat /tmp/peers.log\n");
    EXPECT_EQ(peers.out, address + "\n") << peers.err;
  }
  {
    CallResult r = job_a.Run("cleanup_file_variables", "rm -f \"$CI_PROJECT_DIR.tmp/\"*\n");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(job_a.Cleanup().exit_code, 0);
    ExpectNothingLeft(name_a);
    EXPECT_EQ(Slurp(work_ + "/artifacts/2001/result.txt"), "BUILT IN A MICROVM\n");
  }
  {
    // The project's cache from the job before.
    CallResult r = job_b.Run("restore_cache", kRestoreCache);
    EXPECT_EQ(r.out, "cache: BUILT IN A MICROVM\n") << r.err;
    r = job_b.Run("build_script", "echo compiling\nexit 3\necho unreachable\n");
    EXPECT_EQ(r.exit_code, kBuildFailure) << r.err;
    EXPECT_EQ(r.out, "compiling\n");
    EXPECT_EQ(job_b.BuildExitCode(), "3\n");
    // The VM killed mid-stage: our failure, not the job's.
    std::thread killer([&name_b] {
      std::this_thread::sleep_for(std::chrono::seconds(5));
      RunVk({"rm", "-f", name_b});
    });
    r = job_b.Run("after_script", "echo waiting\nsleep 600\n");
    killer.join();
    EXPECT_EQ(r.exit_code, kSystemFailure) << r.out << r.err;
    EXPECT_EQ(job_b.Cleanup().exit_code, 0);
    EXPECT_EQ(job_b.Cleanup().exit_code, 0);  // twice: nothing to do
    ExpectNothingLeft(name_b);
  }
}

TEST_F(GitlabE2eTest, CleanupAfterKilledPrepareLeavesNothing) {
  FakeRunner runner = Runner("3001", {});
  ASSERT_EQ(runner.Config().exit_code, 0);
  const std::string name = runner.job_env().at("VK_GITLAB_VM");
  pid_t prepare = runner.StartPrepare();
  // Killed once its VMM runs (its record is written), the guest still booting.
  const std::string record = e2e::VmDirectoryForTest(name) + "/vm.json";
  for (int i = 0; i < 1200 && !fs::exists(record); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(fs::exists(record)) << "the job VM never started";
  EXPECT_EQ(runner.Kill(prepare), 128 + SIGKILL);
  CallResult cleaned = runner.Cleanup();
  EXPECT_EQ(cleaned.exit_code, 0) << cleaned.err;
  ExpectNothingLeft(name);
  std::this_thread::sleep_for(std::chrono::seconds(10));  // nothing comes back late
  ExpectNothingLeft(name);
}

}  // namespace
}  // namespace vk::gitlab_test
