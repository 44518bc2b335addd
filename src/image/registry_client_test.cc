// RegistryClient behaviour that a real registry does not show on demand:
// redirects to another host must not carry credentials, transient errors
// are retried with backoff, bearer tokens are fetched with our credentials.
#include "image/registry_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace vk::image
