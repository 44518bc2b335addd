// Result<T>: errors are values. An Error carries a message chain that reads
// from the outermost operation to the root cause, e.g.
//   "launch: open disk rootfs.ext4: No such file or directory"
// so the user sees what failed and, where we know it, how to fix it.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace vk {

// What kind of failure an error is, so callers decide by kind (which exit
// code, retry or not, which hint) and never by searching the message text.
// The kind of the innermost cause is kept when context is added.
enum class ErrorKind : uint8_t {
  kInternal,      // anything not classified below (host failures, bugs)
  kUsage,         // bad options or arguments: the user must change the call
  kNotFound,      // no such VM, image or file
  kConflict,      // the name is taken, the VM is running, the port is in use
  kNoKvm,         // /dev/kvm missing or not accessible
  kDisk,          // a disk image missing or unusable
  kImage,         // an image could not be pulled, unpacked or converted
  kNetwork,       // the LAN, a port forward or egress policy
  kGuestPanic,    // the guest kernel panicked or the VM crashed
  kTimeout,       // a deadline passed
  kNoExitStatus,  // the guest stopped without reporting the command's status
  kPreflight,     // a preflight check failed before anything was started
};

// "usage", "no-kvm", ...: stable names for logs and the library's users.
std::string_view ErrorKindName(ErrorKind kind);

class Error {
 public:
  explicit Error(std::string message, int errno_value = 0)
      : message_(std::move(message)), errno_(errno_value) {}
  Error(ErrorKind kind, std::string message) : message_(std::move(message)), kind_(kind) {}

  // "what: strerror(err)"; keeps err so callers can branch on it (EACCES...).
  static Error FromErrno(std::string_view what, int err = errno);

  // Prefixes the message with the operation that was under way.
  Error WithContext(std::string_view outer) const&;
  Error WithContext(std::string_view outer) &&;

  // Classifies the error (keeps the message and errno).
  Error WithKind(ErrorKind kind) && {
    kind_ = kind;
    return std::move(*this);
  }

  const std::string& message() const { return message_; }
  int errno_value() const { return errno_; }
  ErrorKind kind() const { return kind_; }

 private:
  std::string message_;
  int errno_ = 0;
  ErrorKind kind_ = ErrorKind::kInternal;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(state_); }
  Error&& error() && { return std::get<1>(std::move(state_)); }

  // Adds context to an error result; passes a value through unchanged.
  Result<T> Context(std::string_view outer) && {
    if (ok()) return std::move(*this);
    return std::move(*this).error().WithContext(outer);
  }
  // Classifies an error result; passes a value through unchanged.
  Result<T> WithKind(ErrorKind kind) && {
    if (ok()) return std::move(*this);
    return std::move(*this).error().WithKind(kind);
  }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  void value() const {}

  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

  Result<void> Context(std::string_view outer) && {
    if (ok_) return {};
    return std::move(error_).WithContext(outer);
  }
  Result<void> WithKind(ErrorKind kind) && {
    if (ok_) return {};
    return std::move(error_).WithKind(kind);
  }

 private:
  Error error_{""};
  bool ok_ = true;
};

inline Result<void> Ok() { return {}; }

}  // namespace vk

// VK_TRY(expr): evaluates to the value of a Result, or returns its error from
// the enclosing function (a GNU statement expression, supported by g++/clang).
#define VK_TRY(expr)                            \
  ({                                            \
    auto vk_try_result_ = (expr);               \
    if (!vk_try_result_.ok()) {                 \
      return std::move(vk_try_result_).error(); \
    }                                           \
    std::move(vk_try_result_).value();          \
  })

// VK_TRY_CTX(expr, "context"): like VK_TRY, prefixing the error with context.
#define VK_TRY_CTX(expr, ctx)                                    \
  ({                                                             \
    auto vk_try_result_ = (expr);                                \
    if (!vk_try_result_.ok()) {                                  \
      return std::move(vk_try_result_).error().WithContext(ctx); \
    }                                                            \
    std::move(vk_try_result_).value();                           \
  })
