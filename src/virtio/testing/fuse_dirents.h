// Tests of the FUSE server: READDIR / READDIRPLUS replies parsed back into
// entries (linux/fuse.h's fuse_dirent and fuse_direntplus layouts).
#pragma once

#include <gtest/gtest.h>
#include <linux/fuse.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace vk::virtio::fs::testing {

// One entry of a READDIR / READDIRPLUS reply; nodeid and mode only come
// with READDIRPLUS (0 otherwise).
struct Dirent {
  std::string name;
  uint64_t off = 0;
  uint64_t ino = 0;
  uint64_t nodeid = 0;
  uint32_t mode = 0;
};

inline std::vector<Dirent> ParseDirents(const std::vector<uint8_t>& body, bool plus) {
  std::vector<Dirent> out;
  size_t at = 0;
  size_t prefix = plus ? sizeof(fuse_entry_out) : 0;
  while (at + prefix + FUSE_NAME_OFFSET <= body.size()) {
    fuse_entry_out entry{};
    if (plus) std::memcpy(&entry, body.data() + at, sizeof(entry));
    fuse_dirent dirent;
    std::memcpy(&dirent, body.data() + at + prefix, FUSE_NAME_OFFSET);
    const char* name = reinterpret_cast<const char*>(body.data() + at + prefix + FUSE_NAME_OFFSET);
    out.push_back(
        {std::string(name, dirent.namelen), dirent.off, dirent.ino, entry.nodeid, entry.attr.mode});
    at += prefix + FUSE_DIRENT_SIZE(&dirent);
  }
  EXPECT_EQ(at, body.size());
  return out;
}

}  // namespace vk::virtio::fs::testing
