#include "image/www_authenticate.h"

#include <gtest/gtest.h>

#include <string>

namespace vk::image {
namespace {

using Params = std::map<std::string, std::string>;

std::vector<AuthChallenge> MustParse(std::string_view header) {
  auto parsed = ParseWwwAuthenticate(header);
  EXPECT_TRUE(parsed.ok()) << header << ": " << parsed.error().message();
  return parsed.ok() ? *parsed : std::vector<AuthChallenge>{};
}

TEST(WwwAuthenticateTest, DockerHubBearer) {
  auto challenges =
      MustParse(R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
                R"(scope="repository:library/alpine:pull")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "bearer");
  EXPECT_EQ(challenges[0].params, (Params{{"realm", "https://auth.docker.io/token"},
                                          {"service", "registry.docker.io"},
                                          {"scope", "repository:library/alpine:pull"}}));
  EXPECT_TRUE(challenges[0].token68.empty());
}

TEST(WwwAuthenticateTest, BasicRealm) {
  auto challenges = MustParse(R"(Basic realm="Registry Realm")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].scheme, "basic");
  EXPECT_EQ(challenges[0].params, (Params{{"realm", "Registry Realm"}}));
}

TEST(WwwAuthenticateTest, GhcrStyleUnquotedAndSpacesAroundEquals) {
  auto challenges = MustParse(R"(bearer REALM = "https://ghcr.io/token" , Service=ghcr.io)");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].params,
            (Params{{"realm", "https://ghcr.io/token"}, {"service", "ghcr.io"}}));
}

TEST(WwwAuthenticateTest, MultipleChallenges) {
  auto challenges =
      MustParse(R"(Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple")");
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_EQ(challenges[0].scheme, "newauth");
  EXPECT_EQ(challenges[0].params,
            (Params{{"realm", "apps"}, {"type", "1"}, {"title", R"(Login to "apps")"}}));
  EXPECT_EQ(challenges[1].scheme, "basic");
  EXPECT_EQ(challenges[1].params, (Params{{"realm", "simple"}}));
}

TEST(WwwAuthenticateTest, BareSchemesAndToken68) {
  auto challenges = MustParse("Negotiate, NTLM abc+/d.e~f-_==, Bearer realm=x");
  ASSERT_EQ(challenges.size(), 3u);
  EXPECT_EQ(challenges[0].scheme, "negotiate");
  EXPECT_TRUE(challenges[0].params.empty());
  EXPECT_EQ(challenges[1].scheme, "ntlm");
  EXPECT_EQ(challenges[1].token68, "abc+/d.e~f-_==");
  EXPECT_EQ(challenges[2].params, (Params{{"realm", "x"}}));
}

TEST(WwwAuthenticateTest, EmptyListElementsAreIgnored) {
  auto challenges = MustParse(" , Basic realm=a ,, , Bearer , realm=b ,");
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_EQ(challenges[0].params, (Params{{"realm", "a"}}));
  EXPECT_EQ(challenges[1].scheme, "bearer");
  EXPECT_EQ(challenges[1].params, (Params{{"realm", "b"}}));
}

TEST(WwwAuthenticateTest, KeyWithoutValueIsToken68) {
  // RFC 9110 §11.2: "k=" is a token68 with padding, not an empty auth-param.
  auto challenges = MustParse("Basic realm=, Bearer x=");
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_EQ(challenges[0].token68, "realm=");
  EXPECT_EQ(challenges[1].token68, "x=");
  EXPECT_TRUE(challenges[0].params.empty());
}

TEST(WwwAuthenticateTest, EscapesAndEmptyQuotedValue) {
  auto challenges = MustParse(R"(Basic realm="a\\b\"c\d", charset="", x="tab	ok")");
  ASSERT_EQ(challenges.size(), 1u);
  EXPECT_EQ(challenges[0].params,
            (Params{{"realm", R"(a\b"cd)"}, {"charset", ""}, {"x", "tab\tok"}}));
}

TEST(WwwAuthenticateTest, RejectsGarbage) {
  for (std::string_view bad : {
           "",
           " , ,",
           "=",
           "\"Basic\"",
           "Basic realm=\"unterminated",
           "Basic realm=\"ctl\x01\"",
           "Basic realm=\"bad escape\\\x01\"",
           "Basic realm=a b",
           "Basic realm=a realm=b",
           "Basic realm=a, realm=b",  // duplicate parameter
           "Basic foo bar",
           "Basic\trealm=a",
           "Basic realm=\"a\"x",
           "Bearer realm=@@",
           "Basic, realm=a",  // params need the space after the scheme
           "Basic realm=\"a\" ; Bearer",
           "Bas\xc3\xa9 realm=a",
       }) {
    auto parsed = ParseWwwAuthenticate(bad);
    EXPECT_FALSE(parsed.ok()) << "accepted: " << bad;
    if (!parsed.ok()) {
      EXPECT_TRUE(parsed.error().message().starts_with("parse WWW-Authenticate: "))
          << parsed.error().message();
    }
  }
}

TEST(WwwAuthenticateTest, Limits) {
  std::string long_header = "Basic realm=\"" + std::string(kMaxWwwAuthenticateBytes, 'a') + "\"";
  EXPECT_FALSE(ParseWwwAuthenticate(long_header).ok());

  std::string challenges;
  for (size_t i = 0; i < kMaxAuthChallenges; ++i) challenges += "Basic realm=a, ";
  EXPECT_EQ(MustParse(challenges).size(), kMaxAuthChallenges);
  EXPECT_FALSE(ParseWwwAuthenticate(challenges + "Basic").ok());

  std::string params = "Bearer p0=v";
  for (size_t i = 1; i < kMaxAuthParams; ++i) params += ",p" + std::to_string(i) + "=v";
  ASSERT_EQ(MustParse(params).size(), 1u);
  EXPECT_EQ(MustParse(params)[0].params.size(), kMaxAuthParams);
  EXPECT_FALSE(ParseWwwAuthenticate(params + ",one_more=v").ok());
}

AuthChallenge Bearer(Params params) { return AuthChallenge{"bearer", std::move(params), ""}; }

TEST(WwwAuthenticateTest, BearerTokenUrlDockerHub) {
  auto challenges =
      MustParse(R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io")");
  ASSERT_EQ(challenges.size(), 1u);
  auto url = BearerTokenUrl(challenges[0], "repository:library/alpine:pull");
  ASSERT_TRUE(url.ok()) << url.error().message();
  EXPECT_EQ(*url,
            "https://auth.docker.io/token?service=registry.docker.io"
            "&scope=repository%3Alibrary%2Falpine%3Apull");
}

TEST(WwwAuthenticateTest, BearerTokenUrlEncodingAndFallbacks) {
  // The challenge's own scope is used when the caller has none.
  auto url = BearerTokenUrl(
      Bearer({{"realm", "http://127.0.0.1:5000/auth?x=1"}, {"scope", "repository:a b&c:pull"}}),
      "");
  ASSERT_TRUE(url.ok()) << url.error().message();
  EXPECT_EQ(*url, "http://127.0.0.1:5000/auth?x=1&scope=repository%3Aa%20b%26c%3Apull");

  url = BearerTokenUrl(Bearer({{"realm", "HTTPS://ghcr.io/token"}, {"service", "ghcr.io"}}), "");
  ASSERT_TRUE(url.ok()) << url.error().message();
  EXPECT_EQ(*url, "HTTPS://ghcr.io/token?service=ghcr.io");

  url = BearerTokenUrl(Bearer({{"realm", "https://r/t"}}), "repository:\xc3\xa9:pull");
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(*url, "https://r/t?scope=repository%3A%C3%A9%3Apull");
}

TEST(WwwAuthenticateTest, BearerTokenUrlRejects) {
  EXPECT_FALSE(BearerTokenUrl(AuthChallenge{"basic", {{"realm", "https://a/t"}}, ""}, "s").ok());
  EXPECT_FALSE(BearerTokenUrl(Bearer({}), "s").ok());
  for (const char* realm :
       {"", "ftp://a/t", "file:///etc/passwd", "https://", "https:///t", "https://a/t#frag",
        "https://a/ t", "https://a/\x7f", "//a/t", "javascript:alert(1)", "https://a/\xc3\xa9"}) {
    EXPECT_FALSE(BearerTokenUrl(Bearer({{"realm", realm}}), "s").ok()) << realm;
  }
}

}  // namespace
}  // namespace vk::image
