// Test helper: file trees of images made or unpacked by different tools,
// read into one comparable form. A tree maps "/path" to what a container
// would see there (type, permission bits, owner, size, symlink target,
// xattrs, a SHA-256 of the contents); timestamps are left out, as no two
// builders agree on them. Sources: tar layers applied in order (read with
// libarchive directly, not through the image code under test), a directory
// on disk (lstat), and an OCI image layout (index.json -> manifest).
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "image/sha256.h"
#include "image/testing/oci_layout.h"

namespace vk::image::testing {

struct TreeEntry {
  unsigned type = 0;  // AE_IFREG, AE_IFDIR, ... (the S_IF* values)
  unsigned perm = 0;  // the 07777 bits
  int64_t uid = 0, gid = 0;
  int64_t size = -1;                          // regular files only
  std::string target;                         // symlink target
  std::string hardlink;                       // tar hard link entries: the link's target
  std::map<std::string, std::string> xattrs;  // name -> value
  std::string sha256;                         // regular files' contents
  bool operator==(const TreeEntry&) const = default;

  // "type perm uid gid size target[ xattr names][ sha256:...]".
  std::string Describe() const {
    std::string out = fmt::format("{:o} {:o} {} {} {} {}", type, perm, uid, gid, size,
                                  hardlink.empty() ? target : "=> " + hardlink);
    for (const auto& [name, value] : xattrs) out += " " + name;
    if (!sha256.empty()) out += " sha256:" + sha256;
    return out;
  }
};

using Tree = std::map<std::string, TreeEntry>;

// "/etc/x" for "etc/x", "./etc/x/", "/etc/x"; "/" for the root.
inline std::string TreePath(std::string path) {
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (path.rfind("./", 0) == 0) path = path.substr(2);
  if (path == ".") path.clear();
  return path.rfind('/', 0) == 0 ? path : "/" + path;
}

// SHA-256 of the current entry's data (holes of sparse entries as zeros).
inline std::string HashEntryData(archive* a) {
  Sha256 sha;
  const void* block;
  size_t size;
  la_int64_t offset, done = 0;
  const std::string zeros(65536, '\0');
  while (archive_read_data_block(a, &block, &size, &offset) == ARCHIVE_OK) {
    for (; done < offset; done += std::min<la_int64_t>(offset - done, zeros.size()))
      sha.Update(zeros.data(), std::min<la_int64_t>(offset - done, zeros.size()));
    sha.Update(block, size);
    done = offset + static_cast<la_int64_t>(size);
  }
  return DigestHex(sha.Final());
}

enum class TarContents { kSkip, kHash };

// Adds the entries of one tar (any compression) to `tree`, later entries
// replacing earlier ones. Builds without RUN write no whiteouts: a `.wh.`
// name is kept as it is, so a comparison shows it.
inline void AddTarToTree(const std::string& tar, Tree& tree,
                         TarContents contents = TarContents::kHash) {
  archive* a = archive_read_new();
  archive_read_support_format_all(a);
  // The filters the image code binds (base/lazy/archive.symbols).
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_filter_xz(a);
  ASSERT_EQ(archive_read_open_filename(a, tar.c_str(), 65536), ARCHIVE_OK) << tar;
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    TreeEntry entry;
    entry.type = archive_entry_filetype(e);
    entry.perm = archive_entry_perm(e);
    entry.uid = archive_entry_uid(e);
    entry.gid = archive_entry_gid(e);
    if (const char* link = archive_entry_hardlink(e)) entry.hardlink = TreePath(link);
    if (const char* target = archive_entry_symlink(e)) entry.target = target;
    const char* name;
    const void* value;
    size_t size;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
      entry.xattrs[name] = std::string(static_cast<const char*>(value), size);
    if (entry.type == AE_IFREG && entry.hardlink.empty()) {
      entry.size = archive_entry_size(e);
      if (contents == TarContents::kHash) {
        entry.sha256 = HashEntryData(a);
      }
    }
    tree[TreePath(archive_entry_pathname(e))] = std::move(entry);
  }
  archive_read_free(a);
}

// The tree an image's layers (lowest first) make.
inline Tree TreeOfLayers(const std::vector<std::string>& layers) {
  Tree tree;
  for (const std::string& layer : layers) AddTarToTree(layer, tree);
  return tree;
}

// The tree under `root` on disk, as lstat and readlink see it.
inline Tree TreeOfDirectory(const std::string& root) {
  Tree tree;
  for (const auto& item : std::filesystem::recursive_directory_iterator(root)) {
    std::string path = item.path().string();
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;
    TreeEntry entry;
    entry.type = st.st_mode & S_IFMT;
    entry.perm = st.st_mode & 07777;
    entry.uid = st.st_uid;
    entry.gid = st.st_gid;
    if (S_ISLNK(st.st_mode)) entry.target = std::filesystem::read_symlink(item.path()).string();
    if (S_ISREG(st.st_mode)) {
      entry.size = st.st_size;
      Sha256 sha;
      sha.Update(FileBytes(path));
      entry.sha256 = DigestHex(sha.Final());
    }
    tree[TreePath(path.substr(root.size()))] = std::move(entry);
  }
  return tree;
}

// One line per path that is missing on a side or differs, "" when the trees
// agree; paths in `skip` are not compared.
inline std::string TreeDifferences(const Tree& ours, const Tree& theirs,
                                   const std::set<std::string>& skip = {}) {
  std::string out;
  for (const auto& [path, entry] : ours) {
    if (skip.contains(path)) continue;
    auto other = theirs.find(path);
    if (other == theirs.end()) {
      out += fmt::format("only ours:   {} {}\n", path, entry.Describe());
    } else if (!(other->second == entry)) {
      out += fmt::format("differs:     {}\n  ours:   {}\n  theirs: {}\n", path, entry.Describe(),
                         other->second.Describe());
      if (other->second.xattrs != entry.xattrs) out += "  (xattr values differ)\n";
    }
  }
  for (const auto& [path, entry] : theirs)
    if (!skip.contains(path) && !ours.contains(path))
      out += fmt::format("only theirs: {} {}\n", path, entry.Describe());
  return out;
}

// An image of an OCI image layout (image-spec image-layout.md): the blob
// paths of its config and layers.
struct LayoutImage {
  std::string config;
  std::vector<std::string> layers;
};

// The image tagged `tag` in the layout at `dir` (single-platform).
inline LayoutImage ReadLayoutImage(const std::string& dir, const std::string& tag) {
  auto blob = [&](const nlohmann::json& descriptor) {
    return dir + "/blobs/sha256/" + descriptor.at("digest").get<std::string>().substr(7);
  };
  LayoutImage image;
  nlohmann::json index = nlohmann::json::parse(FileBytes(dir + "/index.json"));
  for (const nlohmann::json& m : index.at("manifests")) {
    if (m.value("annotations", nlohmann::json::object())
            .value("org.opencontainers.image.ref.name", "") != tag)
      continue;
    nlohmann::json manifest = nlohmann::json::parse(FileBytes(blob(m)));
    image.config = blob(manifest.at("config"));
    for (const nlohmann::json& layer : manifest.at("layers")) image.layers.push_back(blob(layer));
  }
  return image;
}

}  // namespace vk::image::testing
