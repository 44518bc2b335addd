// Payloads of the exec-channel frames (docs/protocol.md). Each message has an
// Encode function producing a complete frame and a Decode function that
// validates a peer's payload and never trusts its lengths or counts.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "proto/frame.h"

namespace vk::proto {

// Major versions must match; a newer minor version only appends optional
// fields that older decoders ignore (trailing bytes are allowed).
inline constexpr uint16_t kProtocolMajor = 1;
inline constexpr uint16_t kProtocolMinor = 1;  // 1.1: Started and Attach

// Limits on an ExecRequest, each bounding what a hostile host can make the
// agent allocate or hand to execve (the frame limit bounds the total).
inline constexpr size_t kMaxArgs = 4096;
inline constexpr size_t kMaxEnv = 4096;
inline constexpr size_t kMaxStringLength = 64 * 1024;
// Linux has 16 RLIMIT_* resources (0..15, RLIM_NLIMITS); one entry each is
// all a request needs, so more is refused rather than applied in turn.
inline constexpr uint32_t kRlimitResources = 16;
inline constexpr size_t kMaxRlimits = 16;
// Flow control: credit each side starts with per data stream, and the cap on
// outstanding credit (more is a protocol violation; it bounds the receiver's
// buffer for that stream).
inline constexpr uint32_t kInitialWindow = 256 * 1024;
inline constexpr uint32_t kMaxWindow = 16 * 1024 * 1024;

enum class Role : uint8_t { kHost = 1, kAgent = 2 };

struct Hello {
  uint16_t major = kProtocolMajor;
  uint16_t minor = kProtocolMinor;
  Role role = Role::kHost;
  std::string software;  // e.g. "vk 0.1.0", for error messages only
};

struct TtyConfig {
  std::string term = "xterm";
  uint16_t rows = 24;
  uint16_t cols = 80;
};

// One setrlimit() the agent makes in the command's process before exec. The
// numbers are Linux's, not the host libc's, so they mean the same in the guest.
struct ResourceLimit {
  uint32_t resource = 0;  // RLIMIT_* number, below kRlimitResources
  uint64_t cur = 0;       // soft limit; UINT64_MAX is RLIM_INFINITY
  uint64_t max = 0;       // hard limit, at least cur; UINT64_MAX is RLIM_INFINITY
  bool operator==(const ResourceLimit&) const = default;
};

struct ExecRequest {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH if it has no '/'
  std::vector<std::string> env;   // "NAME=value", applied over the base environment
  bool clear_env = false;         // true: the process gets exactly `env`
  std::string cwd;                // empty: the user's home directory, else "/"
  std::string user;               // "", "name", "uid", "name:group" or "uid:gid"
  std::optional<TtyConfig> tty;   // set: run on a pseudo-terminal, stderr merged
  // Applied in order while the agent is still root (before switching to
  // `user`), so a hard limit may be raised too; one that fails stops the
  // command from starting (exit 126) rather than running it unlimited.
  std::vector<ResourceLimit> rlimits;
};

enum class Stream : uint8_t { kStdin = 0, kStdout = 1, kStderr = 2 };

struct ExitStatus {
  enum class Kind : uint8_t { kExited = 0, kSignaled = 1 };
  Kind kind = Kind::kExited;
  int code = 0;  // exit code (kExited) or signal number (kSignaled)

  static ExitStatus Exited(int code) { return {Kind::kExited, code}; }
  static ExitStatus Signaled(int signo) { return {Kind::kSignaled, signo}; }
  // What a shell reports: the exit code, or 128 + signal number.
  int ShellCode() const { return kind == Kind::kExited ? code : 128 + code; }
  bool operator==(const ExitStatus&) const = default;
};

struct Resize {
  uint16_t rows = 0;
  uint16_t cols = 0;
};

// Attach (host -> agent, 1.1): resume the session of the command the agent
// kept when its connection was lost (a restored checkpoint; docs/protocol.md,
// "Re-attaching"). Offsets count the bytes of each output stream that the
// host handed on to their destination since the command started.
struct AttachRequest {
  uint32_t pid = 0;  // the command, as its Started frame named it
  uint64_t stdout_bytes = 0;
  uint64_t stderr_bytes = 0;
  bool operator==(const AttachRequest&) const = default;
};

struct WindowUpdate {
  Stream stream = Stream::kStdin;
  uint32_t bytes = 0;
};

std::vector<uint8_t> EncodeHello(const Hello& hello);
// A complete ExecRequest frame, or an error saying why the agent would refuse
// it (too large, empty argv, NUL in a string...), checked before sending.
Result<std::vector<uint8_t>> EncodeExecRequest(const ExecRequest& request);
// The bare payload, unchecked (tests use it to build hostile requests).
std::vector<uint8_t> EncodeExecRequestPayload(const ExecRequest& request);
std::vector<uint8_t> EncodeResize(const Resize& resize);
std::vector<uint8_t> EncodeSignal(int signo);
std::vector<uint8_t> EncodeExit(const ExitStatus& status);
std::vector<uint8_t> EncodeWindow(const WindowUpdate& update);
std::vector<uint8_t> EncodeError(std::string_view message);
std::vector<uint8_t> EncodeStarted(uint32_t pid);
std::vector<uint8_t> EncodeAttach(const AttachRequest& attach);

Result<Hello> DecodeHello(std::span<const uint8_t> payload);
Result<ExecRequest> DecodeExecRequest(std::span<const uint8_t> payload);
Result<Resize> DecodeResize(std::span<const uint8_t> payload);
Result<int> DecodeSignal(std::span<const uint8_t> payload);
Result<ExitStatus> DecodeExit(std::span<const uint8_t> payload);
Result<WindowUpdate> DecodeWindow(std::span<const uint8_t> payload);
// Error text, cut to a printable length and with control characters replaced
// (it ends up on the user's terminal).
std::string DecodeError(std::span<const uint8_t> payload);
// A pid is positive and below Linux's PID_MAX_LIMIT (2^22).
Result<uint32_t> DecodeStarted(std::span<const uint8_t> payload);
Result<AttachRequest> DecodeAttach(std::span<const uint8_t> payload);

// Checks the peer's hello against ours: right role, same major version.
Result<void> CheckPeerHello(const Hello& peer, Role expected_role);

}  // namespace vk::proto
