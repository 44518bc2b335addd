// Registries with a private CA, set up as docker and skopeo users do
// (certs.d/HOST:PORT/ca.crt, client.cert + client.key): a real
// docker-registry on 127.0.0.1 serving https with certificates made here
// by openssl.
#include "image/registry_tls.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "image/pull.h"
#include "image/test_support.h"
#include "image/testing/local_registry.h"
#include "image/testing/oci_layout.h"

namespace vk::image {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::LocalRegistry;
using testing::RegistryTls;
using testing::TempDir;

#define REQUIRE_TLS_TOOLS() \
  REQUIRE_REGISTRY_TOOLS(); \
  if (!testing::HaveTool("openssl")) GTEST_SKIP() << "needs openssl"

// Points VIRTKIT_CERTS_DIRS at two roots of this test for its lifetime.
class CertsDirs {
 public:
  CertsDirs(std::string a, std::string b) : a_(std::move(a)), b_(std::move(b)) {
    fs::create_directories(a_);
    fs::create_directories(b_);
    ::setenv("VIRTKIT_CERTS_DIRS", (a_ + ":" + b_).c_str(), 1);
  }
  ~CertsDirs() { ::unsetenv("VIRTKIT_CERTS_DIRS"); }
  std::string first(const std::string& host) const { return a_ + "/" + host; }
  std::string second(const std::string& host) const { return b_ + "/" + host; }

 private:
  std::string a_, b_;
};

bool Sh(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

// ca.crt, server.cert/key (for 127.0.0.1) and client.cert/key, all signed by ca.
bool MakeCertificates(const std::string& dir) {
  std::string d = dir + "/";
  std::ofstream(d + "server.ext") << "subjectAltName=IP:127.0.0.1\n";
  std::ofstream(d + "client.ext") << "extendedKeyUsage=clientAuth\n";
  return Sh("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout " + d +
            "ca.key -out " + d + "ca.crt") &&
         Sh("openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout " + d +
            "server.key -out " + d + "server.csr") &&
         Sh("openssl x509 -req -days 2 -in " + d + "server.csr -CA " + d + "ca.crt -CAkey " + d +
            "ca.key -CAcreateserial -extfile " + d + "server.ext -out " + d + "server.cert") &&
         Sh("openssl req -newkey rsa:2048 -nodes -subj /CN=client -keyout " + d +
            "client.key -out " + d + "client.csr") &&
         Sh("openssl x509 -req -days 2 -in " + d + "client.csr -CA " + d + "ca.crt -CAkey " + d +
            "ca.key -CAcreateserial -extfile " + d + "client.ext -out " + d + "client.cert");
}

ImageSource SeedSmallImage(const TempDir& dir, const LocalRegistry& registry) {
  testing::WriteTar(dir / "l.tar", {{.path = "hello", .data = "over tls\n"}});
  testing::OciLayoutWriter writer(dir / "layout");
  ImageConfig config;
  config.os = "linux";
  config.architecture = "amd64";
  writer.Tag(writer.AddImage({{dir / "l.tar", dir / "l.tar"}}, config), "v1");
  writer.WriteIndex();
  EXPECT_TRUE(registry.Seed(dir / "layout:v1", "tls/app:v1"))
      << testing::ReadFile(dir / "registry/skopeo.log");
  return *ParseImageSource(registry.host() + "/tls/app:v1");
}

PullOptions Secure() {
  PullOptions o;  // https and verified: never --insecure here
  o.progress = Progress::Style::kQuiet;
  return o;
}

void Copy(const std::string& from, const std::string& to) {
  fs::create_directories(fs::path(to).parent_path());
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

TEST(RegistryTls, PrivateCaFromCertsDir) {
  REQUIRE_TLS_TOOLS();
  TempDir dir;
  ASSERT_TRUE(MakeCertificates(dir.path()));
  RegistryTls tls{dir / "server.cert", dir / "server.key", "", ""};
  LocalRegistry registry(dir / "registry", "", "", tls);
  ASSERT_TRUE(registry.ready()) << testing::ReadFile(registry.log_path());
  ImageSource source = SeedSmallImage(dir, registry);
  CertsDirs certs(dir / "etc-docker", dir / "user-containers");
  Store store = *Store::Open(dir / "store");

  auto untrusted = PullImage(store, source, Secure());
  ASSERT_FALSE(untrusted.ok());
  EXPECT_THAT(untrusted.error().message(), HasSubstr("not trusted"));
  EXPECT_THAT(untrusted.error().message(), HasSubstr(certs.first(registry.host())));
  EXPECT_THAT(untrusted.error().message(), HasSubstr("ca.crt"));

  Copy(dir / "ca.crt", certs.second(registry.host()) + "/ca.crt");
  auto pulled = PullImage(store, source, Secure());
  ASSERT_TRUE(pulled.ok()) << pulled.error().message();
  EXPECT_EQ(pulled->layers.size(), 1u);
}

TEST(RegistryTls, ClientCertificateFromCertsDir) {
  REQUIRE_TLS_TOOLS();
  TempDir dir;
  ASSERT_TRUE(MakeCertificates(dir.path()));
  fs::create_directories(dir / "skopeo-certs");
  Copy(dir / "client.cert", dir / "skopeo-certs/client.cert");
  Copy(dir / "client.key", dir / "skopeo-certs/client.key");
  RegistryTls tls{dir / "server.cert", dir / "server.key", dir / "ca.crt", dir / "skopeo-certs"};
  LocalRegistry registry(dir / "registry", "", "", tls);
  ASSERT_TRUE(registry.ready()) << testing::ReadFile(registry.log_path());
  ImageSource source = SeedSmallImage(dir, registry);
  CertsDirs certs(dir / "etc-docker", dir / "user-containers");
  Copy(dir / "ca.crt", certs.first(registry.host()) + "/ca.crt");
  Store store = *Store::Open(dir / "store");

  auto refused = PullImage(store, source, Secure());
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message(), HasSubstr("client certificate"));
  EXPECT_THAT(refused.error().message(),
              HasSubstr("client.cert and client.key in " + certs.first(registry.host())));

  // A key without its certificate is a mistake worth saying.
  Copy(dir / "client.key", certs.second(registry.host()) + "/client.key");
  auto half = PullImage(store, source, Secure());
  ASSERT_FALSE(half.ok());
  EXPECT_THAT(half.error().message(), HasSubstr("has no certificate"));

  Copy(dir / "client.cert", certs.second(registry.host()) + "/client.cert");
  auto pulled = PullImage(store, source, Secure());
  ASSERT_TRUE(pulled.ok()) << pulled.error().message();
}

TEST(RegistryTls, CertsDirRootsAndNames) {
  ::setenv("VIRTKIT_CERTS_DIRS", "/a:/b/c", 1);
  EXPECT_EQ(CertsDirRoots(), (std::vector<std::string>{"/a", "/b/c"}));
  // Port 443 is left out of the directory name, as docker does.
  EXPECT_EQ(CertsDirsFor("reg.example:443"),
            (std::vector<std::string>{"/a/reg.example", "/b/c/reg.example"}));
  EXPECT_EQ(CertsDirsFor("reg.example:5000")[0], "/a/reg.example:5000");
  ::setenv("VIRTKIT_CERTS_DIRS", "", 1);
  const char* config = std::getenv("XDG_CONFIG_HOME");
  std::string user_dir = config && *config
                             ? std::string(config) + "/containers/certs.d"
                             : std::string(std::getenv("HOME")) + "/.config/containers/certs.d";
  EXPECT_EQ(CertsDirRoots(),
            (std::vector<std::string>{"/etc/docker/certs.d", "/etc/containers/certs.d", user_dir}));
  ::unsetenv("VIRTKIT_CERTS_DIRS");
}

}  // namespace
}  // namespace vk::image
