// Helpers for image tests: write tar archives with libarchive, inspect ext4
// images with e2fsprogs (e2fsck, debugfs).
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/testing/temp_dir.h"

namespace vk::image::testing {

struct TarEntrySpec {
  std::string path;
  mode_t type = AE_IFREG;
  mode_t perm = 0644;
  int64_t uid = 0, gid = 0;
  int64_t mtime = 1700000000;
  long mtime_nsec = 0;
  std::string data;
  std::string link;      // symlink target
  std::string hardlink;  // hard link target
  unsigned dev_major = 0, dev_minor = 0;
  std::map<std::string, std::string> xattrs;
};

inline void WriteTar(const std::string& path, const std::vector<TarEntrySpec>& entries,
                     bool gzip = false) {
  archive* a = archive_write_new();
  archive_write_set_format_pax(a);
  if (gzip) archive_write_add_filter_gzip(a);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  for (const TarEntrySpec& s : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, s.path.c_str());
    archive_entry_set_uid(e, s.uid);
    archive_entry_set_gid(e, s.gid);
    archive_entry_set_mtime(e, s.mtime, s.mtime_nsec);
    if (!s.hardlink.empty()) {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_hardlink(e, s.hardlink.c_str());
    } else {
      archive_entry_set_filetype(e, s.type);
      archive_entry_set_perm(e, s.perm);
    }
    if (!s.link.empty()) archive_entry_set_symlink(e, s.link.c_str());
    if (s.type == AE_IFCHR || s.type == AE_IFBLK) {
      archive_entry_set_rdevmajor(e, s.dev_major);
      archive_entry_set_rdevminor(e, s.dev_minor);
    }
    for (const auto& [k, v] : s.xattrs)
      archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
    if (s.type == AE_IFREG && s.hardlink.empty()) {
      archive_entry_set_size(e, static_cast<int64_t>(s.data.size()));
    }
    ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
    if (!s.data.empty()) archive_write_data(a, s.data.data(), s.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

// Runs a shell command, returns stdout; `status` gets the exit status.
inline std::string Run(const std::string& command, int* status = nullptr) {
  std::string out;
  FILE* p = popen((command + " 2>/dev/null").c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int rc = pclose(p);
  if (status) *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return out;
}

inline std::string Debugfs(const std::string& image, const std::string& request) {
  return Run("debugfs -R '" + request + "' " + image);
}

inline int Fsck(const std::string& image) {
  int status = 0;
  Run("e2fsck -fn " + image, &status);
  return status;
}

// Writes `text` to `path` with mode `perm`, making missing parents.
inline void WriteFile(const std::string& path, const std::string& text, unsigned perm = 0644) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  FILE* f = fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  fwrite(text.data(), 1, text.size(), f);
  fclose(f);
  std::filesystem::permissions(path, std::filesystem::perms(perm));
}

inline std::string ReadFile(const std::string& path) {
  std::string out;
  FILE* f = fopen(path.c_str(), "rb");
  if (!f) return out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  fclose(f);
  return out;
}

// A fresh directory per test, removed afterwards (base/testing/temp_dir.h).
using TempDir = vk::testing::TempTree;

}  // namespace vk::image::testing
