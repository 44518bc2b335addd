#include "image/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "base/private_dir.h"
#include "base/sha256.h"
#include "image/fingerprint.h"
#include "image/reference.h"
#include "image/store_tmp.h"

namespace vk::image {
namespace {

namespace fs = std::filesystem;

std::string_view HexOf(std::string_view digest) { return digest.substr(digest.find(':') + 1); }

// A stored image's file name. base/sha256 rather than OpenSSL: `vk run` of a
// stored image then never maps libcrypto (3.4 MB resident), and neither does
// the VMM it becomes (docs/snapshots.md, "Memory").
std::string NameKey(std::string_view name) { return DigestHex(Sha256Of(name)); }

// The converter version as a file-name component ("virtkit-ext4/1" -> "virtkit-ext4-1").
std::string ConverterTag() {
  std::string tag(kConverterVersion);
  for (char& c : tag)
    if (c == '/') c = '-';
  return tag;
}

Result<void> WriteFileAtomically(const std::string& tmp, std::string_view bytes) {
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.flush();
  if (!out) {
    ::unlink(tmp.c_str());
    return Error("write " + tmp + ": disk full or not writable");
  }
  return Ok();
}

Result<void> WriteFileAtomically(const std::string& path, std::string_view bytes,
                                 const std::string& tmp) {
  VK_TRY(WriteFileAtomically(tmp, bytes));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Error::FromErrno("rename into " + path, err);
  }
  return Ok();
}

// Reads in chunks: sizing a buffer by `max_bytes` up front would zero-fill
// 32 MiB for every 2 KiB image config (it cost `vk run` ~28 ms).
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::FromErrno("open " + path);
  std::string bytes;
  char chunk[65536];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    bytes.append(chunk, static_cast<size_t>(in.gcount()));
    if (bytes.size() > max_bytes)
      return Error(path + " is larger than " + std::to_string(max_bytes));
  }
  return bytes;
}

// The digest of a blob held in memory: a manifest, an index or a config,
// kilobytes. base/sha256, like NameKey; streamed layers keep OpenSSL's.
std::string DigestOf(std::string_view bytes) { return "sha256:" + DigestHex(Sha256Of(bytes)); }

}  // namespace

Result<void> PartialBlob::Append(const void* data, size_t length) {
  if (length > expected_size_ - size_)  // size_ never exceeds expected_size_
    return Error("blob " + digest_ + " is larger than the " + std::to_string(expected_size_) +
                 " bytes its descriptor says");
  const auto* p = static_cast<const uint8_t*>(data);
  size_t left = length;
  while (left > 0) {
    ssize_t n = ::write(fd_.get(), p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("write " + path_);
    p += n;
    left -= static_cast<size_t>(n);
  }
  sha_.Update(data, length);
  size_ += length;
  return Ok();
}

Result<void> PartialBlob::Restart() {
  if (::ftruncate(fd_.get(), 0) != 0 || ::lseek(fd_.get(), 0, SEEK_SET) != 0)
    return Error::FromErrno("truncate " + path_);
  sha_ = Sha256();
  size_ = 0;
  return Ok();
}

Result<std::string> PartialBlob::Commit() {
  std::string actual = "sha256:" + DigestHex(sha_.Final());
  if (size_ != expected_size_) {
    ::unlink(path_.c_str());
    return Error("blob " + digest_ + " is " + std::to_string(size_) +
                 " bytes, its descriptor says " + std::to_string(expected_size_) +
                 ": the download was cut short");
  }
  if (actual != digest_) {
    ::unlink(path_.c_str());
    return Error("blob " + digest_ + " failed verification: got " + actual + " (" +
                 std::to_string(size_) +
                 " bytes); the download was corrupted or the "
                 "registry served the wrong content");
  }
  if (::fsync(fd_.get()) != 0) return Error::FromErrno("sync " + path_);
  fd_.Reset();
  VK_TRY(store_->AdoptBlob(path_, digest_));
  return store_->BlobPath(digest_);
}

Result<std::string> Store::DefaultRoot() { return DataDirectory(); }

Result<Store> Store::Open(std::string root) {
  VK_TRY_CTX(EnsurePrivateDirectory(root), "image store");
  for (const char* sub :
       {"blobs/sha256", "images", "bases", "integrity", "tmp", "locks", "build-cache"}) {
    std::error_code error;
    fs::create_directories(fs::path(root) / sub, error);
    if (error)
      return Error("create image store " + root + "/" + sub + ": " + error.message() +
                   " (set VIRTKIT_HOME to a writable directory)");
  }
  Store store(std::move(root));
  store.owner_ = VK_TRY_CTX(TempOwner::Create(store.root_ + "/tmp"), "open image store");
  store.SweepTemps();
  return store;
}

void Store::SweepTemps() const { SweepTempDir(root_ + "/tmp"); }

std::string Store::BlobPath(std::string_view digest) const {
  return root_ + "/blobs/sha256/" + std::string(HexOf(digest));
}

Result<std::string> Store::ReadBlob(std::string_view digest, size_t max_bytes) const {
  if (!IsValidDigest(digest)) return Error("invalid digest " + std::string(digest));
  std::string bytes = VK_TRY(ReadSmallFile(BlobPath(digest), max_bytes));
  if (std::string actual = DigestOf(bytes); actual != digest) {
    RemoveDamaged(BlobPath(digest), IntegrityPath("blob", HexOf(digest)),
                  "its content hashes to " + actual);
    return Error("store blob " + std::string(digest) +
                 " was damaged and has been removed: pull the image again");
  }
  return bytes;
}

Result<void> Store::PutBlob(std::string_view digest, std::string_view bytes) {
  if (!IsValidDigest(digest)) return Error("invalid digest " + std::string(digest));
  std::string actual = DigestOf(bytes);
  if (actual != digest)
    return Error("content does not match its digest " + std::string(digest) + " (got " + actual +
                 ")");
  if (HasBlob(digest)) return Ok();
  std::string tmp = TempPath("blob");
  VK_TRY(WriteFileAtomically(tmp, bytes));
  return AdoptBlob(tmp, digest);
}

Result<std::string> Store::PutBlob(std::string_view bytes) {
  std::string digest = DigestOf(bytes);
  VK_TRY(PutBlob(digest, bytes));
  return digest;
}

Result<PartialBlob> Store::OpenPartial(std::string_view digest, uint64_t size) {
  if (!IsValidDigest(digest)) return Error("invalid digest " + std::string(digest));
  if (size == 0 && digest != kEmptyBlobDigest)
    return Error("blob " + std::string(digest) + " has size 0 in its descriptor");
  std::string path = root_ + "/tmp/" + std::string(HexOf(digest)) + ".partial";
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) return Error::FromErrno("open " + path);
  PartialBlob blob(this, std::string(digest), size, path, std::move(fd));
  // Re-hash what an earlier attempt left so the digest covers the whole blob.
  std::vector<uint8_t> buffer(1 << 20);
  for (;;) {
    ssize_t n = ::read(blob.fd_.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("read " + path);
    if (n == 0) break;
    if (blob.size_ + static_cast<uint64_t>(n) > size) {  // longer than the blob: worthless
      VK_TRY(blob.Restart());
      return blob;
    }
    blob.sha_.Update(buffer.data(), static_cast<size_t>(n));
    blob.size_ += static_cast<uint64_t>(n);
  }
  return blob;
}

Result<FileLock> Store::LockBlob(std::string_view digest) const {
  return FileLock::Acquire(root_ + "/locks/blob-" + std::string(HexOf(digest)));
}

std::string Store::BasePath(std::string_view manifest_digest) const {
  return root_ + "/bases/" + std::string(HexOf(manifest_digest)) + "." + ConverterTag() + ".ext4";
}

Result<FileLock> Store::LockBase(std::string_view manifest_digest) const {
  return FileLock::Acquire(root_ + "/locks/base-" + std::string(HexOf(manifest_digest)));
}

std::string Store::TempPath(std::string_view hint) const {
  static std::atomic<uint64_t> counter{0};
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return root_ + "/tmp/" + std::string(hint) + "." + owner_->token() + "." + std::to_string(now) +
         "-" + std::to_string(counter++);
}

std::string Store::ImagePath(std::string_view name) const {
  return root_ + "/images/" + NameKey(name) + ".json";
}

Result<FileLock> Store::LockForWriting() const {
  return FileLock::Acquire(root_ + "/locks/gc", FileLock::Mode::kShared);
}

Result<void> Store::WriteImage(const ImageRecord& record) {
  return WriteFileAtomically(ImagePath(record.name), SerializeImageRecord(record),
                             TempPath("image"));
}

Result<std::optional<ImageRecord>> Store::FindImage(std::string_view name) const {
  std::string path = ImagePath(name);
  if (::access(path.c_str(), F_OK) != 0) return std::optional<ImageRecord>();
  std::string json = VK_TRY(ReadSmallFile(path, 1 << 20));
  return std::optional<ImageRecord>(VK_TRY_CTX(ParseImageRecord(json), "read " + path));
}

Result<std::vector<ImageRecord>> Store::ListImages() const {
  std::vector<ImageRecord> records;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(root_ + "/images", error)) {
    if (entry.path().extension() != ".json") continue;
    auto json = ReadSmallFile(entry.path(), 1 << 20);
    if (!json.ok()) continue;  // vanished under a concurrent `vk image rm`
    auto record = ParseImageRecord(*json);
    if (record.ok()) records.push_back(std::move(*record));
  }
  if (error) return Error("list " + root_ + "/images: " + error.message());
  std::sort(records.begin(), records.end(),
            [](const ImageRecord& a, const ImageRecord& b) { return a.name < b.name; });
  return records;
}

Result<void> Store::RemoveImage(std::string_view name) {
  if (::unlink(ImagePath(name).c_str()) != 0) {
    if (errno == ENOENT)
      return Error("no image named " + std::string(name) + " (see `vk image ls`)");
    return Error::FromErrno("remove image " + std::string(name));
  }
  return Ok();
}

}  // namespace vk::image
