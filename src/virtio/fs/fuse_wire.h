// Checked views over one FUSE request and its reply (linux/fuse.h, protocol
// 7.31+). Everything in a request is guest-controlled: the reader copies each
// struct out before it is looked at, never reads past the request, and names
// must be NUL-terminated inside it. The writer never writes past the reply
// buffer the transport offered.
#pragma once

#include <linux/fuse.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

#include "base/result.h"

namespace vk::virtio::fs {

// An errno as an Error value: the server turns it into out_header.error.
// Empty message on purpose: ENOENT on LOOKUP is the common case, not a fault.
inline Error Errno(int value) { return Error(std::string(), value); }
inline Error LastErrno() { return Errno(errno != 0 ? errno : EIO); }

// Abuse bound: NAME_MAX; longer names cannot exist on the host anyway.
inline constexpr size_t kMaxNameBytes = 255;
// Abuse bound: a symlink target (PATH_MAX, including the NUL).
inline constexpr size_t kMaxSymlinkTarget = 4095;

class RequestReader {
 public:
  explicit RequestReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  template <typename T>
  requires std::is_trivially_copyable_v<T> Result<T> Read() {
    if (bytes_.size() < sizeof(T)) return Errno(EINVAL);
    T value;
    std::memcpy(&value, bytes_.data(), sizeof(T));
    bytes_ = bytes_.subspan(sizeof(T));
    return value;
  }
  // For structs that grew over protocol versions: copies what is there (at
  // least `minimum` bytes) and zero-fills the rest.
  template <typename T>
  requires std::is_trivially_copyable_v<T> Result<T> ReadAtLeast(size_t minimum) {
    if (bytes_.size() < minimum) return Errno(EINVAL);
    T value{};
    size_t take = std::min(bytes_.size(), sizeof(T));
    std::memcpy(&value, bytes_.data(), take);
    bytes_ = bytes_.subspan(take);
    return value;
  }
  // A NUL-terminated string inside the request, without the NUL.
  Result<std::string_view> ReadString(size_t max_bytes) {
    const void* nul = std::memchr(bytes_.data(), 0, bytes_.size());
    if (nul == nullptr) return Errno(EINVAL);
    size_t length = static_cast<const uint8_t*>(nul) - bytes_.data();
    if (length > max_bytes) return Errno(ENAMETOOLONG);
    std::string_view text(reinterpret_cast<const char*>(bytes_.data()), length);
    bytes_ = bytes_.subspan(length + 1);
    return text;
  }
  // A single path component for a name-based op: no '/', not "." or "..".
  Result<std::string_view> ReadName() {
    std::string_view name = VK_TRY(ReadString(kMaxNameBytes));
    if (!IsPlainName(name)) return Errno(EINVAL);
    return name;
  }
  std::span<const uint8_t> rest() const { return bytes_; }

  static bool IsPlainName(std::string_view name) {
    return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos;
  }

 private:
  std::span<const uint8_t> bytes_;
};

// Builds a reply after the fuse_out_header slot; Finish() fills the header.
class ReplyWriter {
 public:
  explicit ReplyWriter(std::span<uint8_t> buffer) : buffer_(buffer) {}

  bool fits_header() const { return buffer_.size() >= sizeof(fuse_out_header); }
  size_t used() const { return used_; }
  size_t space() const { return buffer_.size() > used_ ? buffer_.size() - used_ : 0; }
  // Raw room for in-place payloads (READ data, dirents).
  std::span<uint8_t> tail() {
    return fits_header() ? buffer_.subspan(used_) : std::span<uint8_t>();
  }
  void Commit(size_t bytes) { used_ += std::min(bytes, space()); }

  Result<void> Append(std::span<const uint8_t> bytes) {
    if (bytes.size() > space()) return Errno(ERANGE);
    if (!bytes.empty()) std::memcpy(buffer_.data() + used_, bytes.data(), bytes.size());
    used_ += bytes.size();
    return Ok();
  }
  template <typename T>
  requires std::is_trivially_copyable_v<T> Result<void> Append(const T& value) {
    return Append(std::span(reinterpret_cast<const uint8_t*>(&value), sizeof(T)));
  }

  // Writes the header for `error` (0 or a positive errno) and returns the
  // reply length; an error reply carries the header only.
  size_t Finish(uint64_t unique, int error) {
    if (!fits_header()) return 0;
    if (error != 0) used_ = sizeof(fuse_out_header);
    fuse_out_header header{};
    header.len = static_cast<uint32_t>(used_);
    header.error = -error;
    header.unique = unique;
    std::memcpy(buffer_.data(), &header, sizeof(header));
    return used_;
  }
  void Reset() { used_ = sizeof(fuse_out_header); }

 private:
  std::span<uint8_t> buffer_;
  size_t used_ = sizeof(fuse_out_header);
};

}  // namespace vk::virtio::fs
