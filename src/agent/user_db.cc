#include "agent/user_db.h"

#include <fcntl.h>
#include <unistd.h>

#include <optional>

#include "base/strings.h"
#include "base/unique_fd.h"
#include "proto/str_format.h"

namespace vk::agent {

using proto::StrFormat;
namespace {

// Account files larger than this are not read further (image-controlled).
constexpr size_t kMaxAccountFile = 4 * 1024 * 1024;
constexpr uint64_t kMaxId = 0xfffffffe;  // (uid_t)-1 means "unchanged" to setuid

struct PasswdEntry {
  std::string name;
  uid_t uid;
  gid_t gid;
  std::string home;
};

std::optional<uint32_t> ParseId(std::string_view text) {
  if (text.empty()) return std::nullopt;
  auto value = ParseUint(text);
  if (!value || *value > kMaxId) return std::nullopt;
  return static_cast<uint32_t>(*value);
}

// Calls `visit` with the fields of each well-formed line having >= min_fields.
template <typename Visit>
void ForEachRecord(std::string_view text, size_t min_fields, Visit visit) {
  for (const auto& line : Split(text, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    auto fields = Split(line, ':');
    if (fields.size() >= min_fields) visit(fields);
  }
}

std::optional<PasswdEntry> FindPasswd(std::string_view text, std::string_view name,
                                      std::optional<uid_t> uid) {
  std::optional<PasswdEntry> found;
  ForEachRecord(text, 7, [&](const std::vector<std::string>& f) {
    auto entry_uid = ParseId(f[2]);
    auto entry_gid = ParseId(f[3]);
    if (found || !entry_uid || !entry_gid) return;
    if (uid ? *entry_uid == *uid : f[0] == name)
      found = PasswdEntry{f[0], *entry_uid, *entry_gid, f[5]};
  });
  return found;
}

std::optional<gid_t> FindGroupId(std::string_view text, std::string_view name) {
  std::optional<gid_t> found;
  ForEachRecord(text, 3, [&](const std::vector<std::string>& f) {
    auto gid = ParseId(f[2]);
    if (!found && gid && f[0] == name) found = *gid;
  });
  return found;
}

std::vector<gid_t> SupplementaryGroups(std::string_view text, std::string_view user,
                                       gid_t primary) {
  std::vector<gid_t> groups{primary};
  if (user.empty()) return groups;
  ForEachRecord(text, 4, [&](const std::vector<std::string>& f) {
    auto gid = ParseId(f[2]);
    if (!gid || *gid == primary || groups.size() >= 64)
      return;  // NGROUPS_MAX is larger; 64 is plenty
    for (const auto& member : Split(f[3], ',')) {
      if (member == user) {
        groups.push_back(*gid);
        break;
      }
    }
  });
  return groups;
}

Result<gid_t> ResolveGroup(std::string_view spec, std::string_view group_text) {
  if (auto gid = ParseId(spec)) return *gid;
  if (auto gid = FindGroupId(group_text, spec)) return *gid;
  return Error(StrFormat("unable to find group {}: no matching entries in group file", spec));
}

std::string ReadSmallFile(const char* path) {
  UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
  std::string text;
  if (!fd) return text;
  char buffer[16 * 1024];
  ssize_t got;
  while (text.size() < kMaxAccountFile && (got = read(fd.get(), buffer, sizeof(buffer))) > 0) {
    text.append(buffer, static_cast<size_t>(got));
  }
  return text;
}

}  // namespace

Result<UserIdentity> ResolveUser(std::string_view spec, std::string_view passwd_text,
                                 std::string_view group_text) {
  std::string user_part(spec.substr(0, spec.find(':')));
  std::optional<std::string> group_part;
  if (spec.find(':') != std::string_view::npos)
    group_part = std::string(spec.substr(spec.find(':') + 1));
  if ((user_part.empty() && group_part) || (group_part && group_part->empty()))
    return Error(StrFormat("invalid user '{}'", spec));
  const std::optional<uid_t> uid =
      user_part.empty() ? std::optional<uid_t>(getuid()) : ParseId(user_part);
  auto entry = FindPasswd(passwd_text, user_part, uid);
  if (!uid && !entry) {
    return Error(
        StrFormat("unable to find user {}: no matching entries in passwd file", user_part));
  }
  UserIdentity identity;
  identity.uid = entry ? entry->uid : *uid;
  identity.gid = entry ? entry->gid : 0;
  if (entry && !entry->home.empty()) identity.home = entry->home;
  if (group_part) identity.gid = VK_TRY(ResolveGroup(*group_part, group_text));
  identity.groups = SupplementaryGroups(group_text, entry ? entry->name : "", identity.gid);
  return identity;
}

Result<UserIdentity> LoadUser(std::string_view spec, const char* passwd_path,
                              const char* group_path) {
  return ResolveUser(spec, ReadSmallFile(passwd_path), ReadSmallFile(group_path));
}

}  // namespace vk::agent
