// The registry client and store against a real registry: Debian's
// docker-registry on 127.0.0.1, seeded with skopeo from layouts the tests
// build (several layers: whiteouts, hard links, symlinks, xattrs, large ids,
// long names, empty files, devices).
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "image/build.h"
#include "image/pull.h"
#include "image/registry_client.h"
#include "image/test_support.h"
#include "image/testing/local_registry.h"
#include "image/testing/oci_layout.h"
#include "image/testing/tree_listing.h"

namespace vk::image {
namespace {

using ::testing::HasSubstr;
using testing::LocalRegistry;
using testing::TempDir;

const std::string kLongName(200, 'n');

void WriteRichLayers(const TempDir& dir) {
  testing::WriteTar(
      dir / "l1.tar",
      {{.path = "bin/", .type = AE_IFDIR, .perm = 0755},
       {.path = "bin/tool", .perm = 0755, .data = "#!/bin/sh\necho tool\n"},
       {.path = "bin/hard", .hardlink = "bin/tool"},
       {.path = "bin/link", .type = AE_IFLNK, .perm = 0777, .link = "/bin/tool"},
       {.path = "etc/", .type = AE_IFDIR, .perm = 0755},
       {.path = "etc/passwd", .data = "root:x:0:0::/root:/bin/sh\n"},
       {.path = "etc/gone", .data = "removed by layer 2"},
       {.path = "etc/empty", .data = ""},
       {.path = "home/", .type = AE_IFDIR, .perm = 0755, .uid = 70000, .gid = 70001},
       {.path = "home/big-id", .uid = 70000, .gid = 70001, .data = "owned"},
       {.path = "cap",
        .perm = 0750,
        .data = "x",
        .xattrs = {{"security.capability",
                    std::string("\x01\x00\x00\x02\x00\x04\x00\x00", 8) + std::string(12, '\0')},
                   {"user.note", "hello"}}},
       {.path = "dev/", .type = AE_IFDIR, .perm = 0755},
       {.path = "dev/null", .type = AE_IFCHR, .perm = 0666, .dev_major = 1, .dev_minor = 3},
       {.path = "fifo", .type = AE_IFIFO, .perm = 0600},
       {.path = "opq/", .type = AE_IFDIR, .perm = 0755},
       {.path = "opq/old", .data = "old"},
       {.path = kLongName, .data = "long"}});
  testing::WriteTar(dir / "l2.tar",
                    {{.path = "etc/.wh.gone"},
                     {.path = "opq/.wh..wh..opq"},
                     {.path = "opq/new", .data = "new"},
                     {.path = "etc/passwd", .data = "root:x:0:0::/root:/bin/ash\n"}});
  testing::Run("gzip -kn " + (dir / "l1.tar"));
}

// A two-layer image (first layer gzip) tagged `tag` in an OCI layout.
Descriptor WriteRichLayout(const TempDir& dir, const std::string& layout, const std::string& tag) {
  WriteRichLayers(dir);
  testing::OciLayoutWriter writer(layout);
  ImageConfig config;
  config.os = "linux";
  config.architecture = "amd64";
  config.cmd = {"/bin/sh"};
  config.env = {"PATH=/bin", "GREETING=hi"};
  config.working_dir = "/home";
  Descriptor m = writer.AddImage(
      {{dir / "l1.tar.gz", dir / "l1.tar"}, {dir / "l2.tar", dir / "l2.tar"}}, config);
  writer.Tag(m, tag);
  writer.WriteIndex();
  return m;
}

// The manifest as the registry serves it (skopeo may rewrite it on copy).
Manifest RegistryManifest(const LocalRegistry& registry, const std::string& repo_tag) {
  Reference ref = *ParseReference(registry.host() + "/" + repo_tag);
  RegistryOptions options;
  options.insecure = true;
  RegistryClient client(ref, options);
  auto fetched = client.FetchManifest(ref.tag);
  EXPECT_TRUE(fetched.ok()) << fetched.error().message();
  return fetched.ok() ? *ParseManifest(fetched->body, fetched->content_type) : Manifest{};
}

PullOptions Quiet() {
  PullOptions o;
  o.insecure = true;
  o.progress = Progress::Style::kQuiet;
  return o;
}

// One line per entry but hard links (they carry no metadata of their own;
// checked by inode): "path type perm uid gid size target[ xattr names]".
std::set<std::string> TarListing(const std::string& tar) {
  testing::Tree tree;
  testing::AddTarToTree(tar, tree, testing::TarContents::kSkip);
  std::set<std::string> out;
  for (const auto& [path, entry] : tree)
    if (entry.hardlink.empty()) out.insert(path + " " + entry.Describe());
  return out;
}

std::string Field(const std::string& text, const std::string& pattern) {
  std::smatch m;
  return std::regex_search(text, m, std::regex(pattern)) ? m[1].str() : "";
}

// The same line for `path` read back from an ext4 image with debugfs.
std::string Ext4Line(const std::string& img, const std::string& path, mode_t type, bool sized) {
  std::string stat = testing::Debugfs(img, "stat \"" + path + "\"");
  unsigned perm = std::stoul(Field(stat, R"(Mode:\s+(\d+))"), nullptr, 8) & 07777;
  std::string size = sized ? Field(stat, R"(Size: (\d+))") : "-1";
  std::string target = Field(stat, R"re(Fast link dest: "([^"]*)")re");
  if (type == AE_IFLNK && target.empty()) target = testing::Debugfs(img, "cat \"" + path + "\"");
  std::string xattrs;
  std::string list = stat.substr(std::min(stat.size(), stat.find("Extended attributes:")));
  std::regex name_re(R"(\n  ([a-z]+\.[^ ]+) \()");
  std::set<std::string> names;
  for (std::sregex_iterator it(list.begin(), list.end(), name_re), end; it != end; ++it)
    names.insert((*it)[1]);
  for (const std::string& n : names) xattrs += " " + n;
  return fmt::format("{} {:o} {:o} {} {} {} {}{}", path, type, perm,
                     Field(stat, R"(User:\s+(\d+))"), Field(stat, R"(Group:\s+(\d+))"), size,
                     target, xattrs);
}

// Every path, type, mode, owner, size, link target and xattr name of the
// flattened tar is what the ext4 image holds.
void ExpectImageMatchesTar(const std::string& img, const std::string& tar) {
  std::set<std::string> entries = TarListing(tar);
  ASSERT_GT(entries.size(), 10u);
  for (const std::string& line : entries) {
    std::string path = line.substr(0, line.find(' '));
    if (path == "/") continue;
    mode_t type = std::stoul(Field(line, R"(^\S+ (\d+))"), nullptr, 8);
    bool sized = Field(line, R"(^\S+ \d+ \d+ \d+ \d+ (-?\d+))") != "-1";
    EXPECT_EQ(Ext4Line(img, path, type, sized), line);
  }
}

TEST(Registry, PullConvertAndCompareWithFlattenedTar) {
  REQUIRE_REGISTRY_TOOLS();
  TempDir dir;
  LocalRegistry registry(dir / "registry");
  ASSERT_TRUE(registry.ready()) << testing::ReadFile(registry.log_path());
  Descriptor m = WriteRichLayout(dir, dir / "layout", "v1");
  ASSERT_TRUE(registry.Seed(dir / "layout" + ":v1", "test/rich:v1"));
  Store store = *Store::Open(dir / "store");
  auto source = ParseImageSource(registry.host() + "/test/rich:v1");
  ASSERT_TRUE(source.ok()) << source.error().message();
  auto record = PullImage(store, *source, Quiet());
  ASSERT_TRUE(record.ok()) << record.error().message();
  EXPECT_EQ(record->name, registry.host() + "/test/rich:v1");
  (void)m;
  EXPECT_EQ(record->layers.size(), 2u);
  EXPECT_EQ(record->platform, "linux/amd64");
  auto config = ReadImageConfig(store, *record);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->working_dir, "/home");
  EXPECT_THAT(config->env, ::testing::Contains("GREETING=hi"));

  auto base = EnsureBase(store, *record, Progress::Style::kQuiet);
  ASSERT_TRUE(base.ok()) << base.error().message();
  EXPECT_EQ(testing::Fsck(*base), 0);
  auto again = EnsureBase(store, *record, Progress::Style::kQuiet);
  EXPECT_EQ(*again, *base);

  // The ext4 base holds exactly what the flattened tar holds.
  ASSERT_TRUE(FlattenLayersToTar(LayerPaths(store, *record), dir / "flat.tar").ok());
  ExpectImageMatchesTar(*base, dir / "flat.tar");
  EXPECT_EQ(testing::Debugfs(*base, "cat /etc/passwd"), "root:x:0:0::/root:/bin/ash\n");
  EXPECT_THAT(testing::Debugfs(*base, "ls /etc"), ::testing::Not(HasSubstr("gone")));
  EXPECT_THAT(testing::Debugfs(*base, "ls /opq"), ::testing::Not(HasSubstr("old")));
  EXPECT_THAT(testing::Debugfs(*base, "stat /home/big-id"), HasSubstr("User: 70000"));
  EXPECT_THAT(testing::Debugfs(*base, "ea_list /cap"), HasSubstr("security.capability"));
  EXPECT_EQ(testing::Debugfs(*base, "cat /" + kLongName), "long");
  EXPECT_EQ(Field(testing::Debugfs(*base, "stat /bin/hard"), R"(Inode: (\d+))"),
            Field(testing::Debugfs(*base, "stat /bin/tool"), R"(Inode: (\d+))"));
}

TEST(Registry, MultiPlatformIndexPicksThePlatform) {
  REQUIRE_REGISTRY_TOOLS();
  TempDir dir;
  LocalRegistry registry(dir / "registry");
  ASSERT_TRUE(registry.ready());
  testing::WriteTar(dir / "a.tar", {{.path = "arch", .data = "amd64"}});
  testing::WriteTar(dir / "b.tar", {{.path = "arch", .data = "arm64"}});
  testing::OciLayoutWriter writer(dir / "layout");
  ImageConfig amd, arm;
  amd.os = arm.os = "linux";
  amd.architecture = "amd64";
  arm.architecture = "arm64";
  Descriptor index = writer.AddIndex({writer.AddImage({{dir / "a.tar", dir / "a.tar"}}, amd),
                                      writer.AddImage({{dir / "b.tar", dir / "b.tar"}}, arm)});
  writer.Tag(index, "multi");
  writer.WriteIndex();
  ASSERT_TRUE(registry.Seed(dir / "layout" + ":multi", "test/multi:1", /*all=*/true));
  Store store = *Store::Open(dir / "store");
  ImageSource source = *ParseImageSource(registry.host() + "/test/multi:1");
  auto amd_record = PullImage(store, source, Quiet());
  ASSERT_TRUE(amd_record.ok()) << amd_record.error().message();
  EXPECT_EQ(amd_record->platform, "linux/amd64");
  PullOptions arm_options = Quiet();
  arm_options.platform = *ParsePlatform("linux/arm64");
  auto arm_record = PullImage(store, source, arm_options);
  ASSERT_TRUE(arm_record.ok()) << arm_record.error().message();
  EXPECT_EQ(arm_record->platform, "linux/arm64");
  PullOptions s390 = Quiet();
  s390.platform = *ParsePlatform("linux/s390x");
  auto missing = PullImage(store, source, s390);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message(), HasSubstr("linux/arm64"));
}

void WriteDockerConfig(const std::string& dir, const std::string& host, const std::string& auth) {
  std::ofstream(dir + "/config.json")
      << R"({"auths":{")" << host << R"(":{"auth":")" << auth << R"("}}})";
  ::setenv("DOCKER_CONFIG", dir.c_str(), 1);
}

TEST(Registry, BasicAuthWithDockerConfigCredentials) {
  REQUIRE_REGISTRY_TOOLS();
  if (!testing::HaveTool("htpasswd")) GTEST_SKIP() << "needs htpasswd (apache2-utils)";
  TempDir dir;
  LocalRegistry registry(dir / "registry", "alice", "s3cret");
  ASSERT_TRUE(registry.ready());
  WriteRichLayout(dir, dir / "layout", "v1");
  ASSERT_TRUE(registry.Seed(dir / "layout" + ":v1", "private/app:v1"));
  Store store = *Store::Open(dir / "store");
  ImageSource source = *ParseImageSource(registry.host() + "/private/app:v1");
  std::filesystem::create_directories(dir / "docker");

  WriteDockerConfig(dir / "docker", "other.example", "eDp5");
  auto anonymous = PullImage(store, source, Quiet());
  ASSERT_FALSE(anonymous.ok());
  EXPECT_THAT(anonymous.error().message(), HasSubstr("vk login " + registry.host()));

  WriteDockerConfig(dir / "docker", registry.host(), "YWxpY2U6d3Jvbmc=");  // alice:wrong
  auto wrong = PullImage(store, source, Quiet());
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.error().message(), HasSubstr("vk login"));

  WriteDockerConfig(dir / "docker", registry.host(), "YWxpY2U6czNjcmV0");  // alice:s3cret
  auto pulled = PullImage(store, source, Quiet());
  ::unsetenv("DOCKER_CONFIG");
  ASSERT_TRUE(pulled.ok()) << pulled.error().message();
  EXPECT_EQ(pulled->layers.size(), 2u);
}

TEST(Registry, CorruptBlobInTheRegistryIsRefused) {
  REQUIRE_REGISTRY_TOOLS();
  TempDir dir;
  LocalRegistry registry(dir / "registry");
  ASSERT_TRUE(registry.ready());
  Descriptor m = WriteRichLayout(dir, dir / "layout", "v1");
  ASSERT_TRUE(registry.Seed(dir / "layout" + ":v1", "test/bad:v1"));
  (void)m;
  Manifest manifest = RegistryManifest(registry, "test/bad:v1");
  ASSERT_EQ(manifest.layers.size(), 2u);
  std::string layer = manifest.layers[1].digest.substr(7);
  std::string data = registry.storage() + "/docker/registry/v2/blobs/sha256/" + layer.substr(0, 2) +
                     "/" + layer + "/data";
  std::string bytes = testing::FileBytes(data);
  ASSERT_FALSE(bytes.empty()) << data;
  bytes[bytes.size() / 2] ^= 0x55;
  std::ofstream(data, std::ios::binary) << bytes;
  Store store = *Store::Open(dir / "store");
  auto pulled = PullImage(store, *ParseImageSource(registry.host() + "/test/bad:v1"), Quiet());
  ASSERT_FALSE(pulled.ok());
  EXPECT_THAT(pulled.error().message(), HasSubstr("failed verification"));
  EXPECT_FALSE(store.HasBlob(manifest.layers[1].digest));
  EXPECT_FALSE(*store.FindImage(registry.host() + "/test/bad:v1"));
}

TEST(Registry, ConcurrentPullsShareTheWork) {
  REQUIRE_REGISTRY_TOOLS();
  TempDir dir;
  LocalRegistry registry(dir / "registry");
  ASSERT_TRUE(registry.ready());
  Descriptor m = WriteRichLayout(dir, dir / "layout", "v1");
  ASSERT_TRUE(registry.Seed(dir / "layout" + ":v1", "test/shared:v1"));
  ImageSource source = *ParseImageSource(registry.host() + "/test/shared:v1");
  std::vector<std::thread> pulls;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    pulls.emplace_back([&] {
      Store store = *Store::Open(dir / "store");
      auto record = PullImage(store, source, Quiet());
      if (record.ok() && EnsureBase(store, *record, Progress::Style::kQuiet).ok()) ++ok;
    });
  }
  for (auto& t : pulls) t.join();
  EXPECT_EQ(ok, 4);
  // Each layer crossed the network once although four pulls wanted it.
  std::string log = testing::ReadFile(registry.log_path());
  (void)m;
  Manifest manifest = RegistryManifest(registry, "test/shared:v1");
  ASSERT_EQ(manifest.layers.size(), 2u);
  for (const Descriptor& layer : manifest.layers) {
    size_t count = 0;
    for (size_t pos = 0;
         (pos = log.find("\"GET /v2/test/shared/blobs/" + layer.digest, pos)) != std::string::npos;
         ++pos)
      ++count;
    EXPECT_EQ(count, 1u) << layer.digest;
  }
  Store store = *Store::Open(dir / "store");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir / "store/bases"), {}), 1);
  // Nothing in tmp/ but the owner file of `store` itself.
  for (const auto& entry : std::filesystem::directory_iterator(dir / "store/tmp"))
    EXPECT_EQ(entry.path().filename().string().rfind("owner-", 0), 0u) << entry.path();
}

}  // namespace
}  // namespace vk::image
