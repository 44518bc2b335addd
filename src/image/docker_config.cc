#include "image/docker_config.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "base/defer.h"
#include "base/fd_io.h"
#include "base/pipe.h"
#include "base/spawn.h"
#include "base/unique_fd.h"
#include "image/base64.h"

extern char** environ;

namespace vk::image {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Bounds memory a corrupt or hostile config.json can make us use.
constexpr size_t kMaxConfigBytes = 4 << 20;
// Bounds what a misbehaving credential helper can make us buffer.
constexpr size_t kMaxHelperOutput = 1 << 20;
// Helpers may wait on a keychain unlock prompt; docker has no limit, but a
// pull should fail rather than hang forever.
constexpr auto kHelperTimeout = std::chrono::seconds(30);
// The server address docker uses for Docker Hub in helpers and auths keys.
constexpr std::string_view kDockerHubServer = "https://index.docker.io/v1/";
constexpr std::string_view kTokenUsername = "<token>";  // docker-credential-helpers

// Where a registry's credentials live: `address` is what helpers are asked
// for and new auths entries are keyed by; `keys` are config keys to try.
struct Server {
  std::string address;
  std::vector<std::string> keys;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::ranges::equal(
      a, b, [](unsigned char x, unsigned char y) { return std::tolower(x) == std::tolower(y); });
}

// "https://localhost:5000/v1/" -> "localhost:5000", like docker's
// ConvertToHostname: config keys written by old clients carry scheme and path.
std::string_view HostOf(std::string_view key) {
  for (std::string_view scheme : {"https://", "http://"}) {
    if (key.size() >= scheme.size() && EqualsIgnoreCase(key.substr(0, scheme.size()), scheme)) {
      key.remove_prefix(scheme.size());
      break;
    }
  }
  return key.substr(0, key.find('/'));
}

Server ResolveServer(std::string_view registry) {
  std::string host(HostOf(registry));
  for (std::string_view hub : {"docker.io", "index.docker.io", "registry-1.docker.io"}) {
    if (EqualsIgnoreCase(host, hub))
      return {
          std::string(kDockerHubServer),
          {std::string(kDockerHubServer), "index.docker.io", "docker.io", "registry-1.docker.io"}};
  }
  return {host, {host}};
}

// The key of `object` that names `server`: an exact key first (in the
// order docker tries them), then any key whose host matches.
std::optional<std::string> FindKey(const json& object, const Server& server) {
  for (const std::string& key : server.keys)
    if (object.contains(key)) return key;
  for (auto it = object.begin(); it != object.end(); ++it) {
    for (const std::string& key : server.keys)
      if (EqualsIgnoreCase(HostOf(it.key()), HostOf(key))) return it.key();
  }
  return std::nullopt;
}

std::string StringField(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// --- config.json -----------------------------------------------------------

Result<std::string> ReadBounded(int fd, size_t limit) {
  std::string text;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("read");
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > limit) return Error(fmt::format("larger than {} bytes", limit));
  }
}

// nullopt when the file does not exist (docker treats that as empty too).
Result<std::optional<json>> ReadConfig(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd && errno == ENOENT) return std::optional<json>();
  if (!fd) return Error::FromErrno("open " + path);
  std::string text = VK_TRY_CTX(ReadBounded(fd.get(), kMaxConfigBytes), "read " + path);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    return std::optional<json>(json::object());
  json config = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object())
    return Error(fmt::format("parse {}: not a JSON object", path));
  return std::optional<json>(std::move(config));
}

// Like `mkdir -p` with mode 0700: the directory holds secrets.
Result<void> MakeDirectories(const std::filesystem::path& dir) {
  std::filesystem::path partial;
  for (const auto& part : dir) {
    partial /= part;
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST)
      return Error::FromErrno("create directory " + partial.string());
  }
  return Ok();
}

// Temp file + rename so a crash never leaves a half-written config; a
// symlinked config.json (dotfile managers) is written through, as docker does.
Result<void> WriteConfig(const std::string& path, const json& config) {
  std::filesystem::path target = path;
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    std::error_code ec;
    target = std::filesystem::canonical(target, ec);
    if (ec) return Error(fmt::format("resolve {}: {}", path, ec.message()));
  }
  VK_TRY(MakeDirectories(target.parent_path()));
  std::string text;
  try {
    text = config.dump(1, '\t') + "\n";
  } catch (const json::exception& e) {
    return Error(fmt::format("encode {}: {}", path, e.what()));
  }
  std::string temp = target.string() + ".tmp-XXXXXX";
  UniqueFd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (!fd) return Error::FromErrno("create temporary file for " + path);
  Defer remove_temp([&] { ::unlink(temp.c_str()); });
  if (::fchmod(fd.get(), 0600) != 0) return Error::FromErrno("chmod " + temp);
  VK_TRY_CTX(WriteAll(fd.get(), text), "write " + temp);
  if (::fsync(fd.get()) != 0) return Error::FromErrno("fsync " + temp);
  if (::rename(temp.c_str(), target.c_str()) != 0) return Error::FromErrno("replace " + path);
  remove_temp.Cancel();
  return Ok();
}

// --- credential helpers (docker-credential-helpers protocol) ---------------

std::string TimedOut() {
  return fmt::format("timed out after {} s", std::chrono::seconds(kHelperTimeout).count());
}

struct HelperRun {
  std::string program;  // "docker-credential-pass"
  int status = 0;       // waitpid status
  std::string out, err;
};

// Feeds `input` to the helper's stdin (a socket, so a helper that exits
// without reading gives EPIPE instead of SIGPIPE) and drains stdout/stderr.
Result<void> Exchange(UniqueFd in, UniqueFd out, UniqueFd err, std::string_view input,
                      HelperRun& run, Clock::time_point deadline) {
  size_t written = 0;
  UniqueFd* sources[2] = {&out, &err};
  std::string* sinks[2] = {&run.out, &run.err};
  while (out || err) {
    if (in && written == input.size()) in.Reset();  // EOF tells the helper input is done
    pollfd pfds[3] = {{in.get(), POLLOUT, 0}, {out.get(), POLLIN, 0}, {err.get(), POLLIN, 0}};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return Error(TimedOut());
    int r = ::poll(pfds, 3, static_cast<int>(left.count()));  // fd -1 entries are ignored
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Error::FromErrno("poll");
    if (pfds[0].revents) {
      ssize_t n = ::send(in.get(), input.data() + written, input.size() - written,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n >= 0) written += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN && errno != EINTR) in.Reset();  // helper closed stdin
    }
    for (int i = 0; i < 2; ++i) {
      if (!pfds[i + 1].revents) continue;
      char buf[4096];
      ssize_t n = ::read(sources[i]->get(), buf, sizeof buf);
      if (n > 0) sinks[i]->append(buf, static_cast<size_t>(n));
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) sources[i]->Reset();
      if (sinks[i]->size() > kMaxHelperOutput) return Error("output too large");
    }
  }
  return Ok();
}

// `program action` from PATH with stdio on `fds` (base/spawn.h).
Result<pid_t> Spawn(const std::string& program, const char* action, const int (&fds)[3],
                    const std::string& config_path) {
  SpawnOptions options;
  for (int i = 0; i < 3; ++i) options.stdio[i] = fds[i];
  options.search_path = true;
  auto pid = SpawnProcess({program, action}, options);
  if (!pid.ok() && pid.error().kind() == ErrorKind::kNotFound)
    return Error(fmt::format("credential helper {} not found in PATH (configured in {})", program,
                             config_path));
  return pid;
}

// Runs `program action` with `input` on stdin and collects its output.
Result<HelperRun> RunHelper(const std::string& program, const char* action, std::string_view input,
                            const std::string& config_path) {
  int in_pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0)
    return Error::FromErrno("socketpair");
  UniqueFd in(in_pair[0]), child_in(in_pair[1]);
  auto [out, child_out] = VK_TRY(MakePipe());
  auto [err, child_err] = VK_TRY(MakePipe());
  ChildProcess child(VK_TRY(
      Spawn(program, action, {child_in.get(), child_out.get(), child_err.get()}, config_path)));
  // The helper must hold the only copies of its ends, or we never see EOF.
  child_in.Reset();
  child_out.Reset();
  child_err.Reset();

  HelperRun run{program};
  Clock::time_point deadline = Clock::now() + kHelperTimeout;
  std::string ctx = fmt::format("{} {}", program, action);
  VK_TRY_CTX(Exchange(std::move(in), std::move(out), std::move(err), input, run, deadline), ctx);
  std::optional<int> status = child.WaitUntil(deadline);
  if (!status) return Error(ctx + ": " + TimedOut());
  run.status = *status;
  return run;
}

bool Succeeded(const HelperRun& run) { return WIFEXITED(run.status) && !WEXITSTATUS(run.status); }

// The helpers' ErrCredentialsNotFound ("credentials not found in native
// keychain") is reported as a failed exit with that text on stdout.
bool NotFound(const HelperRun& run) {
  return !Succeeded(run) && (run.out.find("credentials not found") != std::string::npos ||
                             run.err.find("credentials not found") != std::string::npos);
}

Error HelperFailure(const HelperRun& run, std::string_view action) {
  std::string why = WIFSIGNALED(run.status)
                        ? fmt::format("killed by signal {}", WTERMSIG(run.status))
                        : fmt::format("exit status {}", WEXITSTATUS(run.status));
  std::string text = run.err.empty() ? run.out : run.err;
  text = text.substr(0, std::min(text.find('\n'), size_t{200}));  // first line, bounded
  return Error(
      fmt::format("{} {}: {}{}{}", run.program, action, why, text.empty() ? "" : ": ", text));
}

Result<std::optional<Credentials>> HelperGet(const std::string& program, const Server& server,
                                             const std::string& config_path) {
  HelperRun run = VK_TRY(RunHelper(program, "get", server.address, config_path));
  if (NotFound(run)) return std::optional<Credentials>();
  if (!Succeeded(run)) return HelperFailure(run, "get");
  json reply = json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  if (reply.is_discarded() || !reply.is_object())
    return Error(program + " get: reply is not a JSON object");
  std::string username = StringField(reply, "Username");
  std::string secret = StringField(reply, "Secret");
  if (secret.empty()) return std::optional<Credentials>();
  Credentials credentials;
  if (username == kTokenUsername) {
    credentials.identity_token = std::move(secret);
  } else {
    credentials.username = std::move(username);
    credentials.password = std::move(secret);
  }
  return std::optional<Credentials>(std::move(credentials));
}

Result<void> HelperStore(const std::string& program, const Server& server,
                         const Credentials& credentials, const std::string& config_path) {
  bool token = !credentials.identity_token.empty();
  json request = {{"ServerURL", server.address},
                  {"Username", token ? std::string(kTokenUsername) : credentials.username},
                  {"Secret", token ? credentials.identity_token : credentials.password}};
  std::string input;
  try {
    input = request.dump();
  } catch (const json::exception& e) {
    return Error(fmt::format("encode credentials: {}", e.what()));
  }
  HelperRun run = VK_TRY(RunHelper(program, "store", input, config_path));
  if (!Succeeded(run)) return HelperFailure(run, "store");
  return Ok();
}

Result<void> HelperErase(const std::string& program, const Server& server,
                         const std::string& config_path) {
  HelperRun run = VK_TRY(RunHelper(program, "erase", server.address, config_path));
  if (!Succeeded(run) && !NotFound(run)) return HelperFailure(run, "erase");
  return Ok();
}

// credHelpers[registry], else credsStore, as a program name.
Result<std::optional<std::string>> HelperFor(const json& config, const Server& server) {
  std::string name;
  auto helpers = config.find("credHelpers");
  if (helpers != config.end() && helpers->is_object()) {
    if (auto key = FindKey(*helpers, server)) name = StringField(*helpers, key->c_str());
  }
  if (name.empty()) name = StringField(config, "credsStore");
  if (name.empty()) return std::optional<std::string>();
  // posix_spawnp would run a name with '/' relative to the working directory.
  if (name.find('/') != std::string::npos)
    return Error(fmt::format("invalid credential helper name {:?}", name));
  return std::optional<std::string>("docker-credential-" + name);
}

// --- auths entries -----------------------------------------------------------

Result<std::optional<Credentials>> FromAuthEntry(const json& entry) {
  if (!entry.is_object()) return Error("entry is not an object");
  Credentials credentials;
  if (std::string auth = StringField(entry, "auth"); !auth.empty()) {
    std::optional<std::string> decoded = Base64Decode(auth);
    if (!decoded) return Error("auth is not base64");
    size_t colon = decoded->find(':');
    if (colon == std::string::npos) return Error("auth is not base64 of user:password");
    credentials.username = decoded->substr(0, colon);
    credentials.password = decoded->substr(colon + 1);
  } else {  // written by hand or by very old clients
    credentials.username = StringField(entry, "username");
    credentials.password = StringField(entry, "password");
  }
  credentials.identity_token = StringField(entry, "identitytoken");
  if (credentials.password.empty() && credentials.identity_token.empty())
    return std::optional<Credentials>();
  return std::optional<Credentials>(std::move(credentials));
}

// Mutable config["auths"], created if absent.
Result<json*> AuthsOf(json& config, const std::string& config_path) {
  json& auths = config["auths"];
  if (auths.is_null()) auths = json::object();
  if (!auths.is_object()) return Error(config_path + ": \"auths\" is not an object");
  return &auths;
}

}  // namespace

std::string DockerConfigPath() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir && *dir)
    return std::string(dir) + "/config.json";
  std::string home;
  if (const char* env = std::getenv("HOME"); env && *env) {
    home = env;
  } else {
    passwd entry, *found = nullptr;
    char buf[4096];
    if (::getpwuid_r(::getuid(), &entry, buf, sizeof buf, &found) == 0 && found)
      home = found->pw_dir;
  }
  return home + "/.docker/config.json";
}

Result<std::optional<Credentials>> LookupCredentials(std::string_view registry) {
  std::string path = DockerConfigPath();
  std::optional<json> config = VK_TRY(ReadConfig(path));
  if (!config) return std::optional<Credentials>();
  Server server = ResolveServer(registry);
  auto helper = VK_TRY_CTX(HelperFor(*config, server), path);
  if (helper) return HelperGet(*helper, server, path);
  auto auths = config->find("auths");
  if (auths == config->end() || !auths->is_object()) return std::optional<Credentials>();
  std::optional<std::string> key = FindKey(*auths, server);
  if (!key) return std::optional<Credentials>();
  return FromAuthEntry(auths->at(*key)).Context(fmt::format("{}: auths[{:?}]", path, *key));
}

Result<void> StoreCredentials(std::string_view registry, const Credentials& credentials) {
  std::string path = DockerConfigPath();
  json config = VK_TRY(ReadConfig(path)).value_or(json::object());
  Server server = ResolveServer(registry);
  auto helper = VK_TRY_CTX(HelperFor(config, server), path);
  if (helper) return HelperStore(*helper, server, credentials, path);
  json* auths = VK_TRY(AuthsOf(config, path));
  // Update the entry lookups find (it may be keyed "https://host/v1/").
  json& entry = (*auths)[FindKey(*auths, server).value_or(server.address)];
  if (!entry.is_object()) entry = json::object();
  entry.erase("username");  // plain-text fields would outlive the new auth
  entry.erase("password");
  entry.erase("auth");
  entry.erase("identitytoken");
  if (!credentials.username.empty() || !credentials.password.empty())
    entry["auth"] = Base64Encode(credentials.username + ":" + credentials.password);
  if (!credentials.identity_token.empty()) entry["identitytoken"] = credentials.identity_token;
  return WriteConfig(path, config);
}

Result<void> EraseCredentials(std::string_view registry) {
  std::string path = DockerConfigPath();
  std::optional<json> config = VK_TRY(ReadConfig(path));
  if (!config) return Ok();
  Server server = ResolveServer(registry);
  auto helper = VK_TRY_CTX(HelperFor(*config, server), path);
  if (helper) VK_TRY(HelperErase(*helper, server, path));
  // docker's native store erases the file's entry too; drop every alias.
  auto auths = config->find("auths");
  if (auths == config->end() || !auths->is_object()) return Ok();
  bool changed = false;
  while (std::optional<std::string> key = FindKey(*auths, server)) {
    auths->erase(*key);
    changed = true;
  }
  return changed ? WriteConfig(path, *config) : Ok();
}

}  // namespace vk::image
