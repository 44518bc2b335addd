#include "image/fingerprint.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>

#include "base/unique_fd.h"

namespace vk::image {
namespace {

constexpr off_t kSuperblockOffset = 1024;
constexpr size_t kMagicOffset = 0x38;  // s_magic
constexpr size_t kUuidOffset = 0x68;   // s_uuid
constexpr uint16_t kExtMagic = 0xEF53;

std::string_view KindName(InputKind kind) {
  switch (kind) {
    case InputKind::kTar: return "tar";
    case InputKind::kOciLayers: return "oci-layers";
    case InputKind::kDirectory: return "directory";
  }
  return "?";
}

}  // namespace

Digest Fingerprint(InputKind kind, uint64_t size_bytes, const std::vector<Digest>& inputs) {
  Sha256 sha;
  sha.Update(fmt::format("{}\nkind={}\nsize={}\n", kConverterVersion, KindName(kind),
                         size_bytes ? std::to_string(size_bytes) : "auto"));
  for (const Digest& input : inputs) sha.Update("input=sha256:" + DigestHex(input) + "\n");
  return sha.Final();
}

Uuid UuidFromFingerprint(const Digest& fingerprint) {
  Uuid uuid;
  std::memcpy(uuid.data(), fingerprint.data(), uuid.size());
  uuid[6] = static_cast<uint8_t>((uuid[6] & 0x0f) | 0x80);  // version 8
  uuid[8] = static_cast<uint8_t>((uuid[8] & 0x3f) | 0x80);  // RFC variant
  return uuid;
}

Uuid HashSeedFromFingerprint(const Digest& fingerprint) {
  Uuid seed;
  std::memcpy(seed.data(), fingerprint.data() + 16, seed.size());
  return seed;
}

std::string FormatUuid(const Uuid& u) {
  std::string out;
  for (size_t i = 0; i < u.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += fmt::format("{:02x}", u[i]);
  }
  return out;
}

Result<Uuid> ParseUuid(std::string_view text) {
  Uuid uuid{};
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '-') continue;
    int v = std::isxdigit(static_cast<unsigned char>(text[i]))
                ? (std::isdigit(static_cast<unsigned char>(text[i])) ? text[i] - '0'
                                                                     : (text[i] | 0x20) - 'a' + 10)
                : -1;
    if (v < 0 || n >= 32) return Error(fmt::format("invalid UUID '{}'", text));
    uuid[n / 2] = static_cast<uint8_t>(uuid[n / 2] | (n % 2 ? v : v << 4));
    ++n;
  }
  if (n != 32) return Error(fmt::format("invalid UUID '{}' (want 32 hex digits)", text));
  return uuid;
}

Result<Uuid> ReadImageUuid(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::FromErrno("open " + path);
  uint8_t sb[256];
  if (::pread(fd.get(), sb, sizeof(sb), kSuperblockOffset) != static_cast<ssize_t>(sizeof(sb)))
    return Error(path + ": too short to be an ext4 image");
  uint16_t magic = static_cast<uint16_t>(sb[kMagicOffset] | sb[kMagicOffset + 1] << 8);
  if (magic != kExtMagic) return Error(path + ": not an ext2/3/4 image (bad superblock magic)");
  Uuid uuid;
  std::memcpy(uuid.data(), sb + kUuidOffset, uuid.size());
  return uuid;
}

Result<Digest> DigestFile(const std::string& path) {
  UniqueFd owned;
  int fd = STDIN_FILENO;
  if (path != "-") {
    owned.Reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!owned) return Error::FromErrno("open " + path);
    fd = owned.get();
  }
  constexpr size_t kChunk = 1 << 20;
  std::unique_ptr<uint8_t[]> buf(new uint8_t[kChunk]);
  Sha256 sha;
  for (;;) {
    ssize_t n = ::read(fd, buf.get(), kChunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("read " + path);
    if (n == 0) break;
    sha.Update(buf.get(), static_cast<size_t>(n));
  }
  return sha.Final();
}

}  // namespace vk::image
