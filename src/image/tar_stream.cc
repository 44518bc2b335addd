#include "image/tar_stream.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/lazy_library.h"

VK_LAZY_LIBRARY(vk_lazy_archive);

namespace vk::image {
namespace {

constexpr size_t kReadBytes = 1 << 20;  // large reads: fewer syscalls, better decompression

void EnableFormats(archive* a) {
  archive_read_support_format_tar(a);
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_filter_xz(a);
}

}  // namespace

TarStream::TarStream(int fd, std::string name, TarReadMode mode)
    : fd_(fd), name_(std::move(name)), mode_(mode), buffer_(new uint8_t[kReadBytes]) {}

TarStream::~TarStream() {
  if (archive_) archive_read_free(archive_);
}

Result<std::unique_ptr<TarStream>> TarStream::Open(int fd, std::string name, TarReadMode mode) {
  VK_TRY(LoadLazyLibrary(vk_lazy_archive));  // bound on first use: a clear error if missing
  std::unique_ptr<TarStream> stream(new TarStream(fd, std::move(name), mode));
  stream->archive_ = archive_read_new();
  if (!stream->archive_) return Error("libarchive: out of memory");
  EnableFormats(stream->archive_);
  archive* a = stream->archive_;
  if (::lseek(fd, 0, SEEK_SET) < 0) return Error::FromErrno("seek " + stream->name_);
  archive_read_set_callback_data(a, stream.get());
  archive_read_set_read_callback(a, &TarStream::ReadCallback);
  if (mode == TarReadMode::kIndex) {
    archive_read_set_skip_callback(a, &TarStream::SkipCallback);
    archive_read_set_seek_callback(a, &TarStream::SeekCallback);
  }
  if (archive_read_open1(a) != ARCHIVE_OK) return stream->ArchiveError("open");
  return stream;
}

Result<std::unique_ptr<TarStream>> TarStream::OpenMemory(std::span<const uint8_t> bytes) {
  VK_TRY(LoadLazyLibrary(vk_lazy_archive));
  std::unique_ptr<TarStream> stream(new TarStream(-1, "memory", TarReadMode::kIndex));
  stream->archive_ = archive_read_new();
  if (!stream->archive_) return Error("libarchive: out of memory");
  EnableFormats(stream->archive_);
  if (archive_read_open_memory(stream->archive_, bytes.data(), bytes.size()) != ARCHIVE_OK)
    return stream->ArchiveError("open");
  return stream;
}

Error TarStream::ArchiveError(std::string_view what) const {
  if (read_error_) return Error::FromErrno(fmt::format("{}: {}", name_, what), read_error_);
  const char* message = archive_error_string(archive_);
  return Error(fmt::format("{}: {}: {}", name_, what, message ? message : "corrupt archive"));
}

long TarStream::ReadCallback(archive*, void* self, const void** buffer) {  // NOLINT
  auto* s = static_cast<TarStream*>(self);
  ssize_t n;
  do {
    n = ::pread(s->fd_, s->buffer_.get(), kReadBytes, static_cast<off_t>(s->position_));
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    s->read_error_ = errno;
    return -1;
  }
  if (s->mode_ == TarReadMode::kData) s->sha_.Update(s->buffer_.get(), static_cast<size_t>(n));
  s->position_ += static_cast<uint64_t>(n);
  *buffer = s->buffer_.get();
  return n;
}

int64_t TarStream::SkipCallback(archive*, void* self, int64_t request) {
  auto* s = static_cast<TarStream*>(self);
  struct stat st;
  if (request <= 0 || ::fstat(s->fd_, &st) != 0) return 0;
  int64_t left = st.st_size - static_cast<int64_t>(s->position_);
  int64_t skip = std::max<int64_t>(0, std::min(request, left));
  s->position_ += static_cast<uint64_t>(skip);
  return skip;
}

int64_t TarStream::SeekCallback(archive*, void* self, int64_t offset, int whence) {
  auto* s = static_cast<TarStream*>(self);
  struct stat st;
  if (::fstat(s->fd_, &st) != 0) return ARCHIVE_FATAL;
  int64_t base = whence == SEEK_SET   ? 0
                 : whence == SEEK_CUR ? static_cast<int64_t>(s->position_)
                                      : st.st_size;
  int64_t target = base + offset;
  if (target < 0) return ARCHIVE_FATAL;
  s->position_ = static_cast<uint64_t>(target);
  return target;
}

Result<archive_entry*> TarStream::Next() {
  archive_entry* entry = nullptr;
  int status = archive_read_next_header(archive_, &entry);
  if (status == ARCHIVE_EOF) return static_cast<archive_entry*>(nullptr);
  if (status != ARCHIVE_OK && status != ARCHIVE_WARN) return ArchiveError("read header");
  return entry;
}

Result<bool> TarStream::ReadBlock(uint64_t* offset, const void** data, size_t* length) {
  la_int64_t la_offset = 0;
  int status = archive_read_data_block(archive_, data, length, &la_offset);
  if (status == ARCHIVE_EOF) return false;
  if (status != ARCHIVE_OK && status != ARCHIVE_WARN) return ArchiveError("read data");
  if (la_offset < 0) return Error(name_ + ": negative data offset");
  *offset = static_cast<uint64_t>(la_offset);
  return true;
}

Result<Digest> TarStream::RawDigest() {
  if (mode_ != TarReadMode::kData || fd_ < 0) return Error(name_ + ": digest needs a data read");
  for (;;) {
    const void* unused;
    long n = ReadCallback(archive_, this, &unused);
    if (n < 0) return Error::FromErrno("read " + name_, read_error_);
    if (n == 0) break;
  }
  return sha_.Final();
}

Result<UniqueFd> SpoolToTempFile(int fd, const std::string& dir) {
  UniqueFd out(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!out) return Error::FromErrno("create a temporary file in " + dir + " to hold stdin");
  std::unique_ptr<char[]> buf(new char[kReadBytes]);
  for (;;) {
    ssize_t n = ::read(fd, buf.get(), kReadBytes);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::FromErrno("read stdin");
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(out.get(), buf.get() + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Error::FromErrno("spool stdin to " + dir);
      done += w;
    }
  }
  if (::lseek(out.get(), 0, SEEK_SET) < 0) return Error::FromErrno("seek spooled stdin");
  return out;
}

}  // namespace vk::image
