// LocalRegistry: Debian's `docker-registry` (the CNCF distribution server)
// started by a test on 127.0.0.1 with a random port and its own storage,
// optionally behind htpasswd basic auth; stopped when the object dies. Plus
// helpers that build OCI layouts and seed them with `skopeo copy`.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "image/http_client.h"

namespace vk::image::testing {

inline bool HaveTool(const char* name) {
  std::string cmd = std::string("command -v ") + name + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// In a test body inside namespace vk::image: skips without the tools.
#define REQUIRE_REGISTRY_TOOLS()                                             \
  if (!testing::HaveTool("docker-registry") || !testing::HaveTool("skopeo")) \
  GTEST_SKIP() << "needs docker-registry and skopeo (scripts/install-deps.sh installs them)"

inline int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Serve https with this certificate and key; `client_ca` non-empty: also
// require a client certificate signed by it. `cert_dir` holds what skopeo
// needs to seed (client.cert/client.key).
struct RegistryTls {
  std::string certificate, key, client_ca, cert_dir;
};

class LocalRegistry {
 public:
  // `user`/`password` non-empty: htpasswd basic auth.
  explicit LocalRegistry(const std::string& dir, std::string user = {}, std::string password = {},
                         RegistryTls tls = {})
      : dir_(dir), user_(std::move(user)), password_(std::move(password)), tls_(std::move(tls)) {
    std::filesystem::create_directories(dir_ + "/storage");
    port_ = FreeLoopbackPort();
    WriteConfig();
    pid_ = ::fork();
    if (pid_ == 0) {
      int log = ::open((dir_ + "/registry.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(log, 1);
      ::dup2(log, 2);
      ::execlp("docker-registry", "docker-registry", "serve", (dir_ + "/config.yml").c_str(),
               nullptr);
      ::_exit(127);
    }
    ready_ = WaitReady();
  }
  ~LocalRegistry() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  bool ready() const { return ready_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string storage() const { return dir_ + "/storage"; }
  std::string log_path() const { return dir_ + "/registry.log"; }

  // skopeo copy oci:LAYOUT:TAG docker://HOST/REPO; true on success.
  bool Seed(const std::string& layout_ref, const std::string& repo_ref, bool all = false) const {
    std::string creds = user_.empty() ? "" : " --dest-creds " + user_ + ":" + password_;
    if (!tls_.cert_dir.empty()) creds += " --dest-cert-dir " + tls_.cert_dir;
    std::string cmd = "skopeo copy -q --dest-tls-verify=false" + creds + (all ? " --all" : "") +
                      " oci:" + layout_ref + " docker://" + host() + "/" + repo_ref + " >>" + dir_ +
                      "/skopeo.log 2>&1";
    return std::system(cmd.c_str()) == 0;
  }

 private:
  void WriteConfig() {
    std::ofstream c(dir_ + "/config.yml");
    c << "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\n"
      << "storage:\n  filesystem:\n    rootdirectory: " << dir_ << "/storage\n"
      << "  delete:\n    enabled: true\n"
      << "http:\n  addr: 127.0.0.1:" << port_ << "\n";
    if (!tls_.certificate.empty()) {
      c << "  tls:\n    certificate: " << tls_.certificate << "\n    key: " << tls_.key << "\n";
      if (!tls_.client_ca.empty()) c << "    clientcas:\n      - " << tls_.client_ca << "\n";
    }
    if (!user_.empty()) {
      std::string cmd = "htpasswd -Bbn " + user_ + " " + password_ + " > " + dir_ + "/htpasswd";
      if (std::system(cmd.c_str()) != 0) return;
      c << "auth:\n  htpasswd:\n    realm: test-realm\n    path: " << dir_ << "/htpasswd\n";
    }
  }
  bool WaitReady() {
    if (!tls_.certificate.empty()) return WaitListening();
    HttpClient http;
    for (int i = 0; i < 200; ++i) {
      auto r = http.Send({"GET", "http://" + host() + "/v2/", {}, {}});
      if (r.ok() && (r->status == 200 || r->status == 401)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  // TLS (perhaps with client certificates) cannot be probed anonymously:
  // wait for the port instead.
  bool WaitListening() {
    for (int i = 0; i < 200; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(port_));
      bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      ::close(fd);
      if (up) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  std::string dir_, user_, password_;
  RegistryTls tls_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool ready_ = false;
};

}  // namespace vk::image::testing
