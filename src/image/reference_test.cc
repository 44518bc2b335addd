// Image reference normalisation, checked against what docker/distribution's
// reference package produces for the same input.
#include "image/reference.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace vk::image {
namespace {

using ::testing::HasSubstr;

const std::string kHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kDigest = "sha256:" + kHex;

struct NormalCase {
  std::string input;
  std::string registry, repository, tag, digest;
  std::string canonical, familiar;
};

class ReferenceNormalise : public ::testing::TestWithParam<NormalCase> {};

TEST_P(ReferenceNormalise, MatchesDocker) {
  const NormalCase& c = GetParam();
  auto ref = ParseReference(c.input);
  ASSERT_TRUE(ref.ok()) << ref.error().message();
  EXPECT_EQ(ref->registry, c.registry);
  EXPECT_EQ(ref->repository, c.repository);
  EXPECT_EQ(ref->tag, c.tag);
  EXPECT_EQ(ref->digest, c.digest);
  EXPECT_EQ(ref->Canonical(), c.canonical);
  EXPECT_EQ(ref->Familiar(), c.familiar);
  // The canonical and familiar forms parse back to the same reference.
  EXPECT_EQ(ParseReference(ref->Canonical())->Canonical(), c.canonical);
  EXPECT_EQ(ParseReference(ref->Familiar())->Canonical(), c.canonical);
}

INSTANTIATE_TEST_SUITE_P(
    ReferenceCases, ReferenceNormalise,
    ::testing::Values(NormalCase{"alpine", "docker.io", "library/alpine", "latest", "",
                                 "docker.io/library/alpine:latest", "alpine:latest"},
                      NormalCase{"alpine:3.19", "docker.io", "library/alpine", "3.19", "",
                                 "docker.io/library/alpine:3.19", "alpine:3.19"},
                      NormalCase{"library/alpine", "docker.io", "library/alpine", "latest", "",
                                 "docker.io/library/alpine:latest", "alpine:latest"},
                      NormalCase{"docker.io/alpine", "docker.io", "library/alpine", "latest", "",
                                 "docker.io/library/alpine:latest", "alpine:latest"},
                      NormalCase{"index.docker.io/library/alpine", "docker.io", "library/alpine",
                                 "latest", "", "docker.io/library/alpine:latest", "alpine:latest"},
                      NormalCase{"bitnami/redis:7", "docker.io", "bitnami/redis", "7", "",
                                 "docker.io/bitnami/redis:7", "bitnami/redis:7"},
                      NormalCase{"ghcr.io/o/r@" + kDigest, "ghcr.io", "o/r", "", kDigest,
                                 "ghcr.io/o/r@" + kDigest, "ghcr.io/o/r@" + kDigest},
                      NormalCase{"localhost:5000/x:y", "localhost:5000", "x", "y", "",
                                 "localhost:5000/x:y", "localhost:5000/x:y"},
                      NormalCase{"localhost/x", "localhost", "x", "latest", "",
                                 "localhost/x:latest", "localhost/x:latest"},
                      NormalCase{"127.0.0.1:5000/a/b/c:tag", "127.0.0.1:5000", "a/b/c", "tag", "",
                                 "127.0.0.1:5000/a/b/c:tag", "127.0.0.1:5000/a/b/c:tag"},
                      NormalCase{"ghcr.io/o/r:v1@" + kDigest, "ghcr.io", "o/r", "v1", kDigest,
                                 "ghcr.io/o/r:v1@" + kDigest, "ghcr.io/o/r:v1@" + kDigest},
                      NormalCase{"alpine@" + kDigest, "docker.io", "library/alpine", "", kDigest,
                                 "docker.io/library/alpine@" + kDigest, "alpine@" + kDigest},
                      NormalCase{"[::1]:5000/img:Tag_1", "[::1]:5000", "img", "Tag_1", "",
                                 "[::1]:5000/img:Tag_1", "[::1]:5000/img:Tag_1"},
                      NormalCase{"docker.io/ab__c-d---e/f_g.h:x", "docker.io", "ab__c-d---e/f_g.h",
                                 "x", "", "docker.io/ab__c-d---e/f_g.h:x", "ab__c-d---e/f_g.h:x"},
                      // No '.', ':' or localhost: a Docker Hub user, not a registry.
                      NormalCase{"myhost/img", "docker.io", "myhost/img", "latest", "",
                                 "docker.io/myhost/img:latest", "myhost/img:latest"},
                      // docker reads a lone "host:port" as repository "host", tag "port".
                      NormalCase{"localhost:5000", "docker.io", "library/localhost", "5000", "",
                                 "docker.io/library/localhost:5000", "localhost:5000"}));

struct RejectCase {
  std::string input;
  std::string why;
};

class ReferenceReject : public ::testing::TestWithParam<RejectCase> {};

TEST_P(ReferenceReject, SaysWhatIsWrong) {
  const RejectCase& c = GetParam();
  auto ref = ParseReference(c.input);
  ASSERT_FALSE(ref.ok()) << ref->Canonical();
  EXPECT_THAT(ref.error().message(), HasSubstr("invalid image reference \"" + c.input + "\""));
  EXPECT_THAT(ref.error().message(), HasSubstr(c.why));
}

INSTANTIATE_TEST_SUITE_P(
    ReferenceCases, ReferenceReject,
    ::testing::Values(
        RejectCase{"Alpine", "repository names must be lower case"},
        RejectCase{"ghcr.io/Owner/repo", "repository names must be lower case"},
        RejectCase{"", "empty"}, RejectCase{"a//b", "empty path component"},
        RejectCase{"alpine/", "empty path component"},
        RejectCase{"ghcr.io/", "repository name is empty"},
        RejectCase{":tag", "repository name is empty"},
        RejectCase{"@" + kDigest, "repository name is empty"},
        RejectCase{"alpine@sha256:abc", "digest"},
        RejectCase{"alpine@sha512:" + kHex + kHex, "digest"},
        RejectCase{"alpine@sha256:" + std::string(64, 'A'), "digest"},
        RejectCase{"alpine:" + std::string(129, 't'), "tag"}, RejectCase{"alpine:.hidden", "tag"},
        RejectCase{"alpine:", "tag"}, RejectCase{"al pine", "path components"},
        RejectCase{"alpine-", "path components"}, RejectCase{"a...b", "path components"},
        RejectCase{"a___b", "path components"}, RejectCase{"-a", "path components"},
        RejectCase{"bad_host.io/x", "registry host"}, RejectCase{"host.io:port/x", "registry host"},
        RejectCase{kHex, "image ID"}, RejectCase{"a/" + std::string(250, 'b'), "longer than 255"}));

TEST(ReferenceAccessors, ApiHostAndManifestReference) {
  EXPECT_EQ(ParseReference("alpine")->ApiHost(), "registry-1.docker.io");
  EXPECT_EQ(ParseReference("ghcr.io/o/r")->ApiHost(), "ghcr.io");
  EXPECT_EQ(ParseReference("alpine:3")->ManifestReference(), "3");
  EXPECT_EQ(ParseReference("alpine:3@" + kDigest)->ManifestReference(), kDigest);
}

TEST(ReferenceDigest, OnlySha256LowerHex) {
  EXPECT_TRUE(IsValidDigest(kDigest));
  EXPECT_FALSE(IsValidDigest("sha256:" + kHex.substr(1)));
  EXPECT_FALSE(IsValidDigest("sha256:" + kHex + "0"));
  EXPECT_FALSE(IsValidDigest("sha256:" + std::string(64, 'g')));
  EXPECT_FALSE(IsValidDigest("sha384:" + kHex));
  EXPECT_FALSE(IsValidDigest(""));
}

struct SourceCase {
  std::string input;
  SourceKind kind;
  std::string path, tag, display;
};

class ReferenceSource : public ::testing::TestWithParam<SourceCase> {};

TEST_P(ReferenceSource, Parses) {
  const SourceCase& c = GetParam();
  auto source = ParseImageSource(c.input);
  ASSERT_TRUE(source.ok()) << source.error().message();
  EXPECT_EQ(source->kind, c.kind);
  EXPECT_EQ(source->path, c.path);
  EXPECT_EQ(source->tag, c.tag);
  EXPECT_EQ(source->Display(), c.display);
}

INSTANTIATE_TEST_SUITE_P(
    ReferenceCases, ReferenceSource,
    ::testing::Values(
        SourceCase{"oci:/tmp/layout", SourceKind::kOciLayout, "/tmp/layout", "", "oci:/tmp/layout"},
        SourceCase{"oci:/tmp/layout:v1", SourceKind::kOciLayout, "/tmp/layout", "v1",
                   "oci:/tmp/layout:v1"},
        // What follows the last ':' has a '/': part of the path, not a tag.
        SourceCase{"oci:/mnt/c:d/layout", SourceKind::kOciLayout, "/mnt/c:d/layout", "",
                   "oci:/mnt/c:d/layout"},
        SourceCase{"oci-archive:img.tar", SourceKind::kOciArchive, "img.tar", "",
                   "oci-archive:img.tar"},
        SourceCase{"oci-archive:./a:b.tar:latest", SourceKind::kOciArchive, "./a:b.tar", "latest",
                   "oci-archive:./a:b.tar:latest"},
        SourceCase{"docker-archive:/x/save.tar:app", SourceKind::kDockerArchive, "/x/save.tar",
                   "app", "docker-archive:/x/save.tar:app"},
        // A docker-archive REF is a reference: split at the first ':'.
        SourceCase{"docker-archive:/x/save.tar:ghcr.io/o/app:1.2", SourceKind::kDockerArchive,
                   "/x/save.tar", "ghcr.io/o/app:1.2",
                   "docker-archive:/x/save.tar:ghcr.io/o/app:1.2"},
        SourceCase{"alpine:3.19", SourceKind::kRegistry, "", "", "alpine:3.19"},
        SourceCase{"ghcr.io/o/r", SourceKind::kRegistry, "", "", "ghcr.io/o/r:latest"}));

TEST(ReferenceSourceRegistry, CarriesReference) {
  auto source = ParseImageSource("localhost:5000/x:y");
  ASSERT_TRUE(source.ok());
  EXPECT_EQ(source->reference.Canonical(), "localhost:5000/x:y");
}

TEST(ReferenceSourceErrors, Rejects) {
  EXPECT_THAT(ParseImageSource("oci:").error().message(), HasSubstr("missing path"));
  EXPECT_THAT(ParseImageSource("oci-archive::v1").error().message(), HasSubstr("missing path"));
  EXPECT_THAT(ParseImageSource("oci:dir:").error().message(), HasSubstr("empty tag"));
  EXPECT_THAT(ParseImageSource("Alpine").error().message(),
              HasSubstr("invalid image reference \"Alpine\": repository names must be lower case"));
}

}  // namespace
}  // namespace vk::image
