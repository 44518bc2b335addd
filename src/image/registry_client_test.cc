// RegistryClient behaviour that a real registry does not show on demand:
// redirects to another host must not carry credentials, transient errors
// are retried with backoff, bearer tokens are fetched with our credentials.
#include "image/registry_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>

#include "image/base64.h"
#include "image/test_support.h"
#include "image/testing/tiny_http_server.h"

namespace vk::image {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::TinyHttpServer;
using testing::TinyRequest;

constexpr std::string_view kBlob = "layer bytes";

std::string BlobDigest() {
  Sha256 sha;
  sha.Update(kBlob);
  return "sha256:" + DigestHex(sha.Final());
}

RegistryOptions Fast(std::optional<Credentials> credentials = {}) {
  RegistryOptions o;
  o.insecure = true;
  o.initial_backoff_ms = 1;
  o.credentials = credentials ? credentials : Credentials{};
  return o;
}

TEST(RegistryClient, RedirectToAnotherHostDropsCredentials) {
  TinyHttpServer storage(
      [](const TinyRequest&) { return TinyHttpServer::Response(200, "", std::string(kBlob)); });
  std::string storage_url = "http://" + storage.authority() + "/bucket/blob?sig=1";
  TinyHttpServer registry([&](const TinyRequest& r) {
    if (r.headers.find("authorization: basic") == std::string::npos)
      return TinyHttpServer::Response(401, "WWW-Authenticate: Basic realm=\"r\"\r\n", "");
    return TinyHttpServer::Response(307, "Location: " + storage_url + "\r\n", "");
  });
  testing::TempDir dir;
  Store store = *Store::Open(dir / "store");
  Reference ref = *ParseReference(registry.authority() + "/o/r:1");
  RegistryClient client(ref, Fast(Credentials{"alice", "pw", ""}));
  auto fetched = client.FetchBlob(store, BlobDigest(), kBlob.size());
  ASSERT_TRUE(fetched.ok()) << fetched.error().message();
  EXPECT_EQ(testing::ReadFile(store.BlobPath(BlobDigest())), kBlob);
  ASSERT_EQ(storage.requests().size(), 1u);
  EXPECT_THAT(storage.requests()[0].headers, Not(HasSubstr("authorization")));
  EXPECT_THAT(registry.requests().back().headers, HasSubstr("authorization: basic " + [] {
                std::string b = Base64Encode("alice:pw");
                for (char& c : b) c = static_cast<char>(std::tolower(c));
                return b;
              }()));
}

TEST(RegistryClient, TransientErrorsAreRetried) {
  int calls = 0;
  TinyHttpServer registry([&](const TinyRequest&) {
    return ++calls < 3 ? TinyHttpServer::Response(503, "", "busy")
                       : TinyHttpServer::Response(200, "", std::string(kBlob));
  });
  testing::TempDir dir;
  Store store = *Store::Open(dir / "store");
  RegistryClient client(*ParseReference(registry.authority() + "/o/r:1"), Fast());
  ASSERT_TRUE(client.FetchBlob(store, BlobDigest(), kBlob.size()).ok());
  EXPECT_EQ(calls, 3);
}

TEST(RegistryClient, PersistentErrorsGiveUpWithTheStatus) {
  TinyHttpServer registry([](const TinyRequest&) { return TinyHttpServer::Response(500, "", ""); });
  testing::TempDir dir;
  Store store = *Store::Open(dir / "store");
  RegistryClient client(*ParseReference(registry.authority() + "/o/r:1"), Fast());
  auto fetched = client.FetchBlob(store, BlobDigest(), kBlob.size());
  ASSERT_FALSE(fetched.ok());
  EXPECT_THAT(fetched.error().message(), HasSubstr("HTTP 500"));
  EXPECT_EQ(registry.requests().size(), 5u);
}

TEST(RegistryClient, BearerTokenFetchedWithCredentialsAndScope) {
  std::string token_realm;
  TinyHttpServer auth([](const TinyRequest& r) {
    if (r.headers.find("authorization: basic") == std::string::npos)
      return TinyHttpServer::Response(401, "", "");
    return TinyHttpServer::Response(200, "Content-Type: application/json\r\n",
                                    R"({"token":"T0K"})");
  });
  TinyHttpServer registry([&](const TinyRequest& r) {
    if (r.headers.find("authorization: bearer t0k") == std::string::npos)
      return TinyHttpServer::Response(401,
                                      "WWW-Authenticate: Bearer realm=\"http://" +
                                          auth.authority() + "/token\",service=\"reg\"\r\n",
                                      "");
    return TinyHttpServer::Response(200, "", std::string(kBlob));
  });
  testing::TempDir dir;
  Store store = *Store::Open(dir / "store");
  RegistryClient client(*ParseReference(registry.authority() + "/o/r:1"),
                        Fast(Credentials{"u", "p", ""}));
  auto fetched = client.FetchBlob(store, BlobDigest(), kBlob.size());
  ASSERT_TRUE(fetched.ok()) << fetched.error().message();
  ASSERT_EQ(auth.requests().size(), 1u);
  EXPECT_THAT(auth.requests()[0].path, HasSubstr("service=reg"));
  EXPECT_THAT(auth.requests()[0].path, HasSubstr("scope=repository%3Ao%2Fr%3Apull"));
}

TEST(RegistryClient, WrongBytesAreNeverStored) {
  TinyHttpServer registry(
      [](const TinyRequest&) { return TinyHttpServer::Response(200, "", "evil bytes!"); });
  testing::TempDir dir;
  Store store = *Store::Open(dir / "store");
  RegistryClient client(*ParseReference(registry.authority() + "/o/r:1"), Fast());
  auto fetched = client.FetchBlob(store, BlobDigest(), kBlob.size());
  ASSERT_FALSE(fetched.ok());
  EXPECT_FALSE(store.HasBlob(BlobDigest()));
}

// A response without Content-Length: the body runs until the server closes.
std::string UnsizedResponse(const std::string& body) {
  return "HTTP/1.1 200 X\r\nConnection: close\r\n\r\n" + body;
}

TEST(RegistryClient, SizeZeroDescriptorIsRefusedBeforeAnyRequest) {
  TinyHttpServer registry(
      [](const TinyRequest&) { return UnsizedResponse(std::string(1 << 20, 'x')); });
  testing::TempDir dir;
  Store store = *Store::Open(dir / "store");
  RegistryClient client(*ParseReference(registry.authority() + "/o/r:1"), Fast());
  auto fetched = client.FetchBlob(store, BlobDigest(), 0);
  ASSERT_FALSE(fetched.ok());
  EXPECT_THAT(fetched.error().message(), HasSubstr("size 0"));
  EXPECT_TRUE(registry.requests().empty());
  // The empty blob is the exception, and needs no request either.
  ASSERT_TRUE(client.FetchBlob(store, kEmptyBlobDigest, 0).ok());
  EXPECT_TRUE(store.HasBlob(kEmptyBlobDigest));
  EXPECT_TRUE(registry.requests().empty());
}

TEST(RegistryClient, BodyLongerThanTheDescriptorStopsTheDownload) {
  // No Content-Length: only the running count can stop it.
  TinyHttpServer registry([](const TinyRequest&) {
    return UnsizedResponse(std::string(kBlob) + std::string(256 << 10, 'x'));
  });
  testing::TempDir dir;
  Store store = *Store::Open(dir / "store");
  RegistryClient client(*ParseReference(registry.authority() + "/o/r:1"), Fast());
  auto fetched = client.FetchBlob(store, BlobDigest(), kBlob.size());
  ASSERT_FALSE(fetched.ok());
  EXPECT_THAT(fetched.error().message(), HasSubstr("larger than the 11 bytes"));
  EXPECT_FALSE(store.HasBlob(BlobDigest()));
  // Nothing past the declared size reached the disk.
  for (const auto& entry : std::filesystem::directory_iterator(dir / "store/tmp"))
    EXPECT_LE(entry.file_size(), kBlob.size()) << entry.path();
}

TEST(RegistryClient, AnnouncedLengthOverTheDescriptorFailsAtTheHeaders) {
  TinyHttpServer registry([](const TinyRequest&) {
    return TinyHttpServer::Response(200, "", std::string(kBlob) + "more");
  });
  testing::TempDir dir;
  Store store = *Store::Open(dir / "store");
  RegistryClient client(*ParseReference(registry.authority() + "/o/r:1"), Fast());
  auto fetched = client.FetchBlob(store, BlobDigest(), kBlob.size());
  ASSERT_FALSE(fetched.ok());
  EXPECT_THAT(fetched.error().message(), HasSubstr("announces 15 bytes"));
}

TEST(RegistryClient, BodyShorterThanTheDescriptorFails) {
  TinyHttpServer registry([](const TinyRequest&) { return UnsizedResponse("layer"); });
  testing::TempDir dir;
  Store store = *Store::Open(dir / "store");
  RegistryClient client(*ParseReference(registry.authority() + "/o/r:1"), Fast());
  // The 5 bytes are a prefix of the blob; declared as the whole blob they
  // must not pass for it, whatever the digest of the short body.
  auto fetched = client.FetchBlob(store, BlobDigest(), kBlob.size());
  ASSERT_FALSE(fetched.ok());
  EXPECT_THAT(fetched.error().message(), HasSubstr("cut short"));
  EXPECT_FALSE(store.HasBlob(BlobDigest()));
}

TEST(RegistryClient, CredentialTransportRules) {
  const std::string https_registry = "https://reg.example:5000/v2/";
  const std::string http_registry = "http://reg.example:5000/v2/";
  EXPECT_TRUE(CheckCredentialTransport("https://auth.example/token", https_registry,
                                       "reg.example:5000", false)
                  .ok());
  auto clear = CheckCredentialTransport("http://auth.example/token", https_registry,
                                        "reg.example:5000", false);
  ASSERT_FALSE(clear.ok());
  EXPECT_THAT(clear.error().message(), HasSubstr("plain http"));
  EXPECT_THAT(clear.error().message(), HasSubstr("--insecure"));
  // Insecure: plain http, but only to the registry's own host.
  EXPECT_TRUE(CheckCredentialTransport("http://reg.example:5001/token", http_registry,
                                       "reg.example:5000", true)
                  .ok());
  auto elsewhere = CheckCredentialTransport("http://auth.example/token", http_registry,
                                            "reg.example:5000", true);
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_THAT(elsewhere.error().message(), HasSubstr("own host"));
  EXPECT_FALSE(
      CheckCredentialTransport("ftp://reg.example/token", https_registry, "reg.example:5000", true)
          .ok());
}

TEST(RegistryClient, PlainHttpTokenRealmOnAnotherHostGetsNoCredentials) {
  TinyHttpServer auth(
      [](const TinyRequest&) { return TinyHttpServer::Response(200, "", R"({"token":"T0K"})"); });
  // "localhost" is another host name than the registry's 127.0.0.1.
  TinyHttpServer registry([&](const TinyRequest&) {
    return TinyHttpServer::Response(401,
                                    "WWW-Authenticate: Bearer realm=\"http://localhost:" +
                                        std::to_string(auth.port()) + "/token\"\r\n",
                                    "");
  });
  testing::TempDir dir;
  Store store = *Store::Open(dir / "store");
  RegistryClient client(*ParseReference(registry.authority() + "/o/r:1"),
                        Fast(Credentials{"u", "secret", ""}));
  auto fetched = client.FetchBlob(store, BlobDigest(), kBlob.size());
  ASSERT_FALSE(fetched.ok());
  EXPECT_THAT(fetched.error().message(), HasSubstr("refusing to send credentials"));
  EXPECT_TRUE(auth.requests().empty());
}

TEST(RegistryClient, EndlessHeadersAreCut) {
  ::signal(SIGPIPE, SIG_IGN);  // the client hangs up while the server still writes
  std::string many;
  for (int i = 0; i < 20000; ++i)
    many += "X-Filler-" + std::to_string(i) + ": " + std::string(40, 'f') + "\r\n";
  TinyHttpServer registry([&](const TinyRequest&) {
    return TinyHttpServer::Response(401, many + "WWW-Authenticate: Basic realm=\"r\"\r\n", "");
  });
  testing::TempDir dir;
  Store store = *Store::Open(dir / "store");
  RegistryClient client(*ParseReference(registry.authority() + "/o/r:1"), Fast());
  auto fetched = client.FetchBlob(store, BlobDigest(), kBlob.size());
  ASSERT_FALSE(fetched.ok());
  EXPECT_THAT(fetched.error().message(), HasSubstr("response headers larger than"));
}

}  // namespace
}  // namespace vk::image
