// Integrity records of the image store: what a blob or base looked like
// (size, inode, mtime, ctime) right after it was committed, plus for a base
// the digest of what it was built from. A file that still matches its record
// is trusted without re-reading it; one that does not is re-hashed (blobs) or
// rebuilt (bases). ctime cannot be set back by a user program, so any write
// to the file, a truncation or a chmod shows as a change.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <vector>

#include "base/log.h"
#include "base/sha256.h"
#include "image/fingerprint.h"
#include "image/reference.h"
#include "image/store.h"

namespace vk::image {
namespace {

constexpr size_t kMaxRecordBytes = 4096;

std::string_view HexOf(std::string_view digest) { return digest.substr(digest.find(':') + 1); }

std::optional<std::string> StampOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  auto ns = [](const timespec& t) { return std::to_string(t.tv_sec * 1000000000LL + t.tv_nsec); };
  return "v1 " + std::to_string(st.st_size) + " " + std::to_string(st.st_ino) + " " +
         ns(st.st_mtim) + " " + ns(st.st_ctim);
}

std::string RecordText(const std::string& stamp, std::string_view inputs) {
  return stamp + " " + std::string(inputs.empty() ? "-" : inputs) + "\n";
}

std::string ReadRecord(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text(kMaxRecordBytes, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

// sha256 of the file, streamed; nullopt when it cannot be read.
std::optional<std::string> HashFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  Sha256 sha;
  std::vector<uint8_t> buffer(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    sha.Update(buffer.data(), static_cast<size_t>(n));
  }
  return "sha256:" + DigestHex(sha.Final());
}

}  // namespace

// A few digests' worth of text: base/sha256, so that `vk run` of a stored
// image never maps libcrypto (see NameKey in store.cc).
std::string BaseInputs(std::string_view manifest_digest, const std::vector<std::string>& layers) {
  Sha256Hasher sha;
  sha.Update(kConverterVersion);
  sha.Update("\n");
  sha.Update(manifest_digest);
  for (const std::string& layer : layers) {
    sha.Update("\n");
    sha.Update(layer);
  }
  return "sha256:" + DigestHex(sha.Finish());
}

std::string Store::IntegrityPath(std::string_view kind, std::string_view name) const {
  return root_ + "/integrity/" + std::string(kind) + "-" + std::string(name);
}

Result<void> Store::RecordIntegrity(const std::string& path, const std::string& record_path,
                                    std::string_view inputs) const {
  auto stamp = StampOf(path);
  if (!stamp) return Error::FromErrno("stat " + path);
  std::string tmp = TempPath("integrity");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << RecordText(*stamp, inputs);
    out.flush();
    if (!out) return Error("write " + tmp + ": disk full or not writable");
  }
  if (::rename(tmp.c_str(), record_path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Error::FromErrno("rename into " + record_path, err);
  }
  return Ok();
}

void Store::RemoveDamaged(const std::string& path, const std::string& record_path,
                          std::string_view why) const {
  log::Warn("image store: {} is damaged ({}); removed, it will be fetched or built again", path,
            why);
  ::unlink(path.c_str());
  ::unlink(record_path.c_str());
}

bool Store::HasBlob(std::string_view digest) const {
  if (!IsValidDigest(digest)) return false;
  std::string path = BlobPath(digest);
  std::string record_path = IntegrityPath("blob", HexOf(digest));
  auto stamp = StampOf(path);
  if (!stamp) return false;
  if (ReadRecord(record_path) == RecordText(*stamp, "")) return true;
  // Changed since it was committed, or committed by an older virtkit.
  auto actual = HashFile(path);
  if (actual && *actual == digest && StampOf(path) == stamp) {
    if (auto r = RecordIntegrity(path, record_path, ""); !r.ok())
      log::Warn("image store: {}", r.error().message());
    return true;
  }
  // Remove only what we hashed: a concurrent fetch may have renamed a good
  // copy into place meanwhile.
  if (StampOf(path) == stamp)
    RemoveDamaged(path, record_path, "its content hashes to " + actual.value_or("nothing"));
  return false;
}

bool Store::HasBase(std::string_view manifest_digest, std::string_view inputs,
                    Repair repair) const {
  std::string path = BasePath(manifest_digest);
  std::string name = path.substr(path.rfind('/') + 1);
  std::string record_path = IntegrityPath("base", name);
  auto stamp = StampOf(path);
  if (!stamp) return false;
  std::string record = ReadRecord(record_path);
  if (record == RecordText(*stamp, inputs)) return true;
  if (repair == Repair::kRemoveDamaged)
    RemoveDamaged(path, record_path,
                  record.empty() ? "no integrity record" : "changed since it was built");
  return false;
}

Result<std::string> Store::CommitBase(const std::string& tmp_path, std::string_view manifest_digest,
                                      std::string_view inputs) {
  std::string path = BasePath(manifest_digest);
  ::chmod(tmp_path.c_str(), 0444);  // the base is shared and must never change
  if (::rename(tmp_path.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp_path.c_str());
    return Error::FromErrno("rename into " + path, err);
  }
  std::string name = path.substr(path.rfind('/') + 1);
  VK_TRY(RecordIntegrity(path, IntegrityPath("base", name), inputs));
  return path;
}

Result<void> Store::AdoptBlob(const std::string& tmp_path, std::string_view digest) {
  if (!IsValidDigest(digest)) return Error("invalid digest " + std::string(digest));
  std::string path = BlobPath(digest);
  if (::rename(tmp_path.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp_path.c_str());
    return Error::FromErrno("rename into " + path, err);
  }
  return RecordIntegrity(path, IntegrityPath("blob", HexOf(digest)), "");
}

}  // namespace vk::image
