// Resolves an exec request's user ("name", "uid", "name:group", "uid:gid")
// against the guest's /etc/passwd and /etc/group. Parsed by hand: a static
// binary cannot use glibc's NSS, and these files come from an untrusted image.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vk::agent {

struct UserIdentity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups, primary gid included
  std::string home = "/";
};

// `spec` empty means "the agent's own uid". A numeric uid without a passwd
// entry gets gid 0 and home "/" (Docker's behaviour); an unknown name is an
// error.
Result<UserIdentity> ResolveUser(std::string_view spec, std::string_view passwd_text,
                                 std::string_view group_text);
// Same, reading the files (missing files count as empty).
Result<UserIdentity> LoadUser(std::string_view spec, const char* passwd_path = "/etc/passwd",
                              const char* group_path = "/etc/group");

}  // namespace vk::agent
