#include "image/registry_tls.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "base/strings.h"

namespace vk::image {
namespace {

namespace fs = std::filesystem;

// A certificate or key is a few KiB; a directory of them stays small.
constexpr uint64_t kMaxCertFileBytes = 1 << 20;
constexpr uint64_t kMaxSystemBundleBytes = 16 << 20;

Result<std::string> ReadBounded(const std::string& path, uint64_t limit) {
  std::error_code error;
  uint64_t size = fs::file_size(path, error);
  if (error) return Error("read " + path + ": " + error.message());
  if (size > limit) return Error(path + " is over " + std::to_string(limit) + " bytes");
  std::ifstream in(path, std::ios::binary);
  std::string text(size, '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(size))) return Error("read " + path);
  return text;
}

// The CA file libcurl trusts by default (Debian: ca-certificates.crt).
std::string SystemBundlePath() {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  char* path = nullptr;
  if (curl && curl_easy_getinfo(curl.get(), CURLINFO_CAINFO, &path) == CURLE_OK && path)
    return path;
  return "/etc/ssl/certs/ca-certificates.crt";
}

// Directory names for an authority: docker omits the port when it is 443.
std::vector<std::string> DirNames(std::string_view authority) {
  std::vector<std::string> names{std::string(authority)};
  if (authority.size() > 4 && authority.substr(authority.size() - 4) == ":443")
    names.push_back(std::string(authority.substr(0, authority.size() - 4)));
  return names;
}

std::vector<fs::path> SortedFiles(const std::string& dir) {
  std::vector<fs::path> files;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error))
    if (entry.is_regular_file(error)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

// One certs.d directory: its CAs appended to `cas`, its client pair (the
// first, as docker takes) into `out`.
Result<void> ReadCertsDir(const std::string& dir, std::string& cas, TlsSettings& out) {
  for (const fs::path& file : SortedFiles(dir)) {
    std::string ext = file.extension().string();
    fs::path base = file;
    if (ext == ".crt") {
      cas += VK_TRY(ReadBounded(file.string(), kMaxCertFileBytes)) + "\n";
    } else if (ext == ".cert") {
      fs::path key = base.replace_extension(".key");
      if (!fs::exists(key))
        return Error("client certificate " + file.string() + " has no key " + key.string());
      if (out.client_cert.empty()) {
        out.client_cert = file.string();
        out.client_key = key.string();
      }
    } else if (ext == ".key" && !fs::exists(base.replace_extension(".cert"))) {
      return Error("client key " + file.string() + " has no certificate " + base.string());
    }
  }
  return Ok();
}

}  // namespace

std::vector<std::string> CertsDirRoots() {
  const char* list = std::getenv(std::string(kCertsDirsVariable).c_str());
  if (list != nullptr && *list != '\0') {
    std::vector<std::string> roots;
    for (const std::string& root : Split(list, ':'))
      if (!root.empty()) roots.push_back(root);
    return roots;
  }
  std::vector<std::string> roots{"/etc/docker/certs.d", "/etc/containers/certs.d"};
  const char* config = std::getenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  if (config != nullptr && *config != '\0')
    roots.push_back(std::string(config) + "/containers/certs.d");
  else if (home != nullptr && *home != '\0')
    roots.push_back(std::string(home) + "/.config/containers/certs.d");
  return roots;
}

std::vector<std::string> CertsDirsFor(std::string_view authority) {
  std::vector<std::string> dirs;
  std::string name = DirNames(authority).back();  // the name docker documents
  for (const std::string& root : CertsDirRoots()) dirs.push_back(root + "/" + name);
  return dirs;
}

Result<TlsSettings> LoadTlsSettings(std::string_view authority) {
  TlsSettings out;
  std::string cas;
  for (const std::string& root : CertsDirRoots()) {
    for (const std::string& name : DirNames(authority)) {
      std::string dir = root + "/" + name;
      std::error_code error;
      if (fs::is_directory(dir, error)) VK_TRY_CTX(ReadCertsDir(dir, cas, out), "certs.d");
    }
  }
  // libcurl takes one CA source: keep the system's roots next to ours.
  // (A system without a bundle trusts only ours.)
  if (!cas.empty()) {
    auto system = ReadBounded(SystemBundlePath(), kMaxSystemBundleBytes);
    out.ca_bundle = (system.ok() ? *system + "\n" : std::string()) + cas;
  }
  return out;
}

}  // namespace vk::image
