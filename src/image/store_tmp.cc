#include "image/store_tmp.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "base/remove_tree.h"
#include "base/strings.h"
#include "image/sha256.h"

namespace vk::image {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kOwnerPrefix = "owner-";
constexpr size_t kTokenLength = 16;
// A sweeper may remove an owner file between its creation and its lock
// (it looks dead then); the owner notices and tries a fresh token.
constexpr int kCreateAttempts = 8;

bool IsToken(std::string_view text) {
  return text.size() == kTokenLength &&
         text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

Result<std::string> FreshToken() {
  uint8_t bytes[kTokenLength / 2];
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes))
    return Error::FromErrno("getrandom");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (uint8_t b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 15];
  }
  return token;
}

bool SameFile(int fd, const std::string& path) {
  struct stat a, b;
  return ::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev &&
         a.st_ino == b.st_ino;
}

// The token of "<hint>.<token>.<n>[...]", or empty for other names.
std::string TokenOfTemp(std::string_view name) {
  size_t first = name.find('.');
  if (first == std::string_view::npos) return {};
  std::string_view rest = name.substr(first + 1);
  std::string_view token = rest.substr(0, rest.find('.'));
  return IsToken(token) ? std::string(token) : std::string();
}

// True when the owner of `token` is gone; then its owner file is removed.
bool OwnerIsGone(const std::string& tmp_dir, const std::string& token) {
  std::string path = tmp_dir + "/" + std::string(kOwnerPrefix) + token;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return errno == ENOENT;
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) return false;  // alive (or unknowable)
  // Still the same file: remove it while holding its lock, so an owner that
  // locks it after us sees it is gone and picks another token.
  if (SameFile(fd.get(), path)) ::unlink(path.c_str());
  return true;
}

}  // namespace

Result<std::shared_ptr<TempOwner>> TempOwner::Create(const std::string& tmp_dir) {
  for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
    std::string token = VK_TRY(FreshToken());
    std::string path = tmp_dir + "/" + std::string(kOwnerPrefix) + token;
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!fd) {
      if (errno == EEXIST) continue;
      return Error::FromErrno("create " + path);
    }
    while (::flock(fd.get(), LOCK_EX) != 0)
      if (errno != EINTR) return Error::FromErrno("lock " + path);
    if (!SameFile(fd.get(), path)) continue;  // a sweep removed it before we locked it
    return std::shared_ptr<TempOwner>(new TempOwner(path, token, std::move(fd)));
  }
  return Error("cannot create an owner token in " + tmp_dir);
}

TempOwner::~TempOwner() { ::unlink(path_.c_str()); }

void SweepTempDir(const std::string& tmp_dir) {
  std::map<std::string, bool> gone;  // token -> its owner is gone
  auto is_gone = [&](const std::string& token) {
    auto it = gone.find(token);
    if (it == gone.end()) it = gone.emplace(token, OwnerIsGone(tmp_dir, token)).first;
    return it->second;
  };
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(tmp_dir, error)) {
    std::string name = entry.path().filename().string();
    if (StartsWith(name, kOwnerPrefix)) {
      std::string token = name.substr(kOwnerPrefix.size());
      if (IsToken(token)) is_gone(token);
      continue;
    }
    std::string token = TokenOfTemp(name);
    if (token.empty() || !is_gone(token)) continue;
    auto removed = RemoveTreeWithin(tmp_dir, entry.path().string());
    (void)removed;  // a sweep is best effort: the next command tries again
  }
}

}  // namespace vk::image
