#include "vmm/landlock.h"

#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace vk::sandbox {
namespace {

// Access rights by ABI (linux/landlock.h; Debian 12's copy stops at ABI 2).
constexpr uint64_t kAbi1Rights = (1ull << 13) - 1;  // EXECUTE .. MAKE_SYM
constexpr uint64_t kRefer = 1ull << 13;             // ABI 2
constexpr uint64_t kTruncate = 1ull << 14;          // ABI 3
constexpr uint64_t kIoctlDev = 1ull << 15;          // ABI 5

constexpr uint64_t kReadRights = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
constexpr uint64_t kSocketRights = LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_REMOVE_FILE;
// Rights that only make sense on directories (landlock_add_rule refuses
// them for a file).
constexpr uint64_t kFileRights =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE;
constexpr uint64_t kDirectoryOnly = (kAbi1Rights & ~kFileRights) | kRefer;

uint64_t HandledRights(int abi) {
  uint64_t rights = kAbi1Rights;
  if (abi >= 2) rights |= kRefer;
  if (abi >= 3) rights |= kTruncate;
  if (abi >= 5) rights |= kIoctlDev;
  return rights;
}

uint64_t RightsFor(PathAccess access, uint64_t handled) {
  switch (access) {
    case PathAccess::kReadOnly: return kReadRights & handled;
    case PathAccess::kReadWrite: return handled & ~kIoctlDev;
    case PathAccess::kSockets: return kSocketRights & handled;
  }
  return 0;
}

Result<void> AddRule(int ruleset, const PathRule& rule, uint64_t handled) {
  UniqueFd parent(::open(rule.path.c_str(), O_PATH | O_CLOEXEC));
  if (!parent) return Error::FromErrno("landlock: open " + rule.path);
  landlock_path_beneath_attr beneath{};
  beneath.allowed_access = RightsFor(rule.access, handled);
  struct stat st;
  if (::fstat(parent.get(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    beneath.allowed_access &= ~kDirectoryOnly;
  }
  beneath.parent_fd = parent.get();
  if (::syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) != 0) {
    return Error::FromErrno("landlock: add a rule for " + rule.path);
  }
  return Ok();
}

}  // namespace

int LandlockAbi() {
  long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return abi > 0 ? static_cast<int>(abi) : 0;  // ENOSYS, or EOPNOTSUPP when disabled at boot
}

Result<UniqueFd> CreateLandlockRuleset(const std::vector<PathRule>& rules) {
  int abi = LandlockAbi();
  if (abi == 0) return UniqueFd();
  landlock_ruleset_attr attr{};
  attr.handled_access_fs = HandledRights(abi);
  UniqueFd ruleset(
      static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0)));
  if (!ruleset) return Error::FromErrno("landlock: create a ruleset");
  for (const PathRule& rule : rules) VK_TRY(AddRule(ruleset.get(), rule, attr.handled_access_fs));
  return ruleset;
}

Result<void> ApplyLandlock(int ruleset) {
  if (::syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) {
    return Error::FromErrno("landlock: restrict the thread");
  }
  return Ok();
}

}  // namespace vk::sandbox
