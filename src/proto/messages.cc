#include "proto/messages.h"

#include <algorithm>

#include "proto/str_format.h"
#include "proto/wire.h"

namespace vk::proto {
namespace {

constexpr uint8_t kFlagClearEnv = 1 << 0;
constexpr uint8_t kFlagTty = 1 << 1;
// Set only when there are limits, so a request without them is byte for byte
// what older hosts send (and older agents, which refuse unknown flags, fail
// loudly instead of running the command without its limits).
constexpr uint8_t kFlagRlimits = 1 << 2;
constexpr uint8_t kKnownFlags = kFlagClearEnv | kFlagTty | kFlagRlimits;
constexpr size_t kMaxErrorText = 4096;
constexpr uint32_t kMaxPid = 1u << 22;  // PID_MAX_LIMIT on 64-bit Linux

std::vector<uint8_t> Finish(FrameType type, ByteWriter& writer) {
  return EncodeFrame(type, writer.bytes());
}

void WriteStrings(ByteWriter& writer, const std::vector<std::string>& strings) {
  writer.U32(static_cast<uint32_t>(strings.size()));
  for (const auto& text : strings) writer.String(text);
}

// Strings end up as C strings for execve/chdir: an embedded NUL would
// silently truncate them, so it is rejected instead.
std::optional<std::string> ReadCString(ByteReader& reader) {
  auto text = reader.String(kMaxStringLength);
  if (!text || text->find('\0') != std::string::npos) return std::nullopt;
  return text;
}

Result<std::vector<std::string>> ReadStrings(ByteReader& reader, size_t max_count,
                                             std::string_view what) {
  auto count = reader.U32();  // guest- or host-controlled
  if (!count) return Error(StrFormat("truncated {} count", what));
  if (*count > max_count) {
    return Error(StrFormat("{} {} entries exceed the limit of {}", *count, what, max_count));
  }
  std::vector<std::string> strings;
  for (uint32_t i = 0; i < *count; ++i) {
    auto text = ReadCString(reader);
    if (!text) return Error(StrFormat("{} entry {} is truncated or contains NUL", what, i));
    strings.push_back(std::move(*text));
  }
  return strings;
}

// Peer-supplied text that we print: bounded and without terminal control codes.
std::string SanitizeText(std::string text) {
  if (text.size() > kMaxErrorText) text.resize(kMaxErrorText);
  std::replace_if(
      text.begin(), text.end(),
      [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }, '?');
  return text;
}

Result<void> ValidateRequest(const ExecRequest& request) {
  if (request.argv.empty()) return Error("empty argv: no command to run");
  if (request.argv[0].empty()) return Error("empty command name");
  for (const auto& entry : request.env) {
    const size_t equals = entry.find('=');
    if (equals == std::string::npos || equals == 0) {
      return Error(StrFormat("environment entry '{}' is not NAME=value", entry.substr(0, 64)));
    }
  }
  if (request.tty && request.tty->term.find('=') != std::string::npos) {
    return Error("terminal type contains '='");
  }
  return Ok();
}

Result<std::optional<TtyConfig>> ReadTty(ByteReader& reader, uint8_t flags) {
  if (!(flags & kFlagTty)) return std::optional<TtyConfig>();
  TtyConfig tty;
  auto term = ReadCString(reader);
  auto rows = reader.U16();
  auto cols = reader.U16();
  if (!term || !rows || !cols) return Error("truncated tty settings");
  tty.term = std::move(*term);
  tty.rows = *rows;
  tty.cols = *cols;
  return std::optional<TtyConfig>(std::move(tty));
}

void WriteRlimits(ByteWriter& writer, const std::vector<ResourceLimit>& rlimits) {
  writer.U16(static_cast<uint16_t>(rlimits.size()));
  for (const auto& limit : rlimits) {
    writer.U32(limit.resource);
    writer.U64(limit.cur);
    writer.U64(limit.max);
  }
}

// setrlimit() would reject these too, but only in the child, as exit 126;
// refusing them here names the problem to the host before anything runs.
Result<void> ValidateRlimit(const ResourceLimit& limit, size_t index) {
  if (limit.resource >= kRlimitResources) {
    return Error(StrFormat("rlimit {} names resource {}, not an RLIMIT_* number below {}", index,
                           limit.resource, kRlimitResources));
  }
  if (limit.cur > limit.max) {
    return Error(StrFormat("rlimit {} (resource {}): soft limit {} exceeds hard limit {}", index,
                           limit.resource, limit.cur, limit.max));
  }
  return Ok();
}

Result<std::vector<ResourceLimit>> ReadRlimits(ByteReader& reader, uint8_t flags) {
  std::vector<ResourceLimit> rlimits;
  if (!(flags & kFlagRlimits)) return rlimits;
  auto count = reader.U16();  // host-controlled
  if (!count) return Error("truncated rlimit count");
  if (*count > kMaxRlimits) {
    return Error(StrFormat("{} rlimits exceed the limit of {}", *count, kMaxRlimits));
  }
  for (size_t i = 0; i < *count; ++i) {
    auto resource = reader.U32();
    auto cur = reader.U64();
    auto max = reader.U64();
    if (!resource || !cur || !max) return Error(StrFormat("rlimit {} is truncated", i));
    rlimits.push_back({*resource, *cur, *max});
    VK_TRY(ValidateRlimit(rlimits.back(), i));
  }
  return rlimits;
}

}  // namespace

std::vector<uint8_t> EncodeHello(const Hello& hello) {
  ByteWriter writer;
  writer.U16(hello.major);
  writer.U16(hello.minor);
  writer.U8(static_cast<uint8_t>(hello.role));
  writer.String(hello.software.substr(0, 256));
  return Finish(FrameType::kHello, writer);
}

Result<Hello> DecodeHello(std::span<const uint8_t> payload) {
  ByteReader reader(payload);
  auto major = reader.U16();
  auto minor = reader.U16();
  auto role = reader.U8();
  auto software = reader.String(256);
  if (!major || !minor || !role || !software) return Error("truncated hello");
  if (*role != static_cast<uint8_t>(Role::kHost) && *role != static_cast<uint8_t>(Role::kAgent)) {
    return Error(StrFormat("hello names unknown role {}", *role));
  }
  return Hello{*major, *minor, static_cast<Role>(*role), SanitizeText(std::move(*software))};
}

Result<void> CheckPeerHello(const Hello& peer, Role expected_role) {
  const char* expected = expected_role == Role::kAgent ? "vk-agent" : "vk";
  if (peer.role != expected_role) {
    return Error(StrFormat("peer is not {} (wrong role in hello)", expected));
  }
  if (peer.major != kProtocolMajor) {
    return Error(
        StrFormat("incompatible exec protocol: we speak {}.{}, {} ('{}') speaks {}.{}; use vk and "
                  "vk-agent from the same release",
                  kProtocolMajor, kProtocolMinor, expected, peer.software, peer.major, peer.minor));
  }
  return Ok();
}

std::vector<uint8_t> EncodeExecRequestPayload(const ExecRequest& request) {
  ByteWriter writer;
  uint8_t flags = 0;
  if (request.clear_env) flags |= kFlagClearEnv;
  if (request.tty) flags |= kFlagTty;
  if (!request.rlimits.empty()) flags |= kFlagRlimits;
  writer.U8(flags);
  WriteStrings(writer, request.argv);
  WriteStrings(writer, request.env);
  writer.String(request.cwd);
  writer.String(request.user);
  if (request.tty) {
    writer.String(request.tty->term);
    writer.U16(request.tty->rows);
    writer.U16(request.tty->cols);
  }
  if (!request.rlimits.empty()) WriteRlimits(writer, request.rlimits);
  return writer.Take();
}

Result<std::vector<uint8_t>> EncodeExecRequest(const ExecRequest& request) {
  // The u16 count would wrap first, and a wrapped count can decode cleanly.
  if (request.rlimits.size() > kMaxRlimits) {
    return Error(
        StrFormat("{} rlimits exceed the limit of {}", request.rlimits.size(), kMaxRlimits));
  }
  auto payload = EncodeExecRequestPayload(request);
  if (payload.size() > kMaxFramePayload) {
    return Error(StrFormat("command line and environment take {} bytes, over the {} byte limit",
                           payload.size(), kMaxFramePayload));
  }
  // The agent's own parser is the single definition of a valid request.
  VK_TRY(DecodeExecRequest(payload).Context("invalid exec request"));
  return EncodeFrame(FrameType::kExecRequest, payload);
}

Result<ExecRequest> DecodeExecRequest(std::span<const uint8_t> payload) {
  ByteReader reader(payload);
  ExecRequest request;
  auto flags = reader.U8();
  if (!flags) return Error("empty exec request");
  if (*flags & ~kKnownFlags) return Error(StrFormat("unknown exec request flags {}", *flags));
  request.clear_env = (*flags & kFlagClearEnv) != 0;
  request.argv = VK_TRY(ReadStrings(reader, kMaxArgs, "argv"));
  request.env = VK_TRY(ReadStrings(reader, kMaxEnv, "env"));
  auto cwd = ReadCString(reader);
  auto user = ReadCString(reader);
  if (!cwd || !user) return Error("truncated or invalid cwd/user in exec request");
  request.cwd = std::move(*cwd);
  request.user = std::move(*user);
  request.tty = VK_TRY(ReadTty(reader, *flags));
  request.rlimits = VK_TRY(ReadRlimits(reader, *flags));
  VK_TRY(ValidateRequest(request));
  return request;
}

std::vector<uint8_t> EncodeResize(const Resize& resize) {
  ByteWriter writer;
  writer.U16(resize.rows);
  writer.U16(resize.cols);
  return Finish(FrameType::kResize, writer);
}

Result<Resize> DecodeResize(std::span<const uint8_t> payload) {
  ByteReader reader(payload);
  auto rows = reader.U16();
  auto cols = reader.U16();
  if (!rows || !cols) return Error("truncated resize");
  return Resize{*rows, *cols};
}

std::vector<uint8_t> EncodeSignal(int signo) {
  ByteWriter writer;
  writer.U32(static_cast<uint32_t>(signo));
  return Finish(FrameType::kSignal, writer);
}

Result<int> DecodeSignal(std::span<const uint8_t> payload) {
  ByteReader reader(payload);
  auto signo = reader.U32();
  // 64 is the highest real-time signal on Linux; 0 would be a no-op probe.
  if (!signo || *signo == 0 || *signo > 64) return Error("invalid signal number");
  return static_cast<int>(*signo);
}

std::vector<uint8_t> EncodeExit(const ExitStatus& status) {
  ByteWriter writer;
  writer.U8(static_cast<uint8_t>(status.kind));
  writer.U32(static_cast<uint32_t>(status.code));
  return Finish(FrameType::kExit, writer);
}

Result<ExitStatus> DecodeExit(std::span<const uint8_t> payload) {
  ByteReader reader(payload);
  auto kind = reader.U8();
  auto code = reader.U32();
  if (!kind || !code) return Error("truncated exit status");
  if (*kind == static_cast<uint8_t>(ExitStatus::Kind::kExited) && *code <= 255) {
    return ExitStatus::Exited(static_cast<int>(*code));
  }
  if (*kind == static_cast<uint8_t>(ExitStatus::Kind::kSignaled) && *code >= 1 && *code <= 64) {
    return ExitStatus::Signaled(static_cast<int>(*code));
  }
  return Error(StrFormat("invalid exit status (kind {}, value {})", *kind, *code));
}

std::vector<uint8_t> EncodeWindow(const WindowUpdate& update) {
  ByteWriter writer;
  writer.U8(static_cast<uint8_t>(update.stream));
  writer.U32(update.bytes);
  return Finish(FrameType::kWindow, writer);
}

Result<WindowUpdate> DecodeWindow(std::span<const uint8_t> payload) {
  ByteReader reader(payload);
  auto stream = reader.U8();
  auto bytes = reader.U32();
  if (!stream || !bytes) return Error("truncated window update");
  if (*stream > static_cast<uint8_t>(Stream::kStderr)) {
    return Error(StrFormat("window update for unknown stream {}", *stream));
  }
  return WindowUpdate{static_cast<Stream>(*stream), *bytes};
}

std::vector<uint8_t> EncodeError(std::string_view message) {
  ByteWriter writer;
  writer.String(message.substr(0, kMaxErrorText));
  return Finish(FrameType::kError, writer);
}

std::string DecodeError(std::span<const uint8_t> payload) {
  ByteReader reader(payload);
  auto text = reader.String(kMaxFramePayload);
  return SanitizeText(text ? std::move(*text) : std::string(payload.begin(), payload.end()));
}

std::vector<uint8_t> EncodeStarted(uint32_t pid) {
  ByteWriter writer;
  writer.U32(pid);
  return Finish(FrameType::kStarted, writer);
}

Result<uint32_t> DecodeStarted(std::span<const uint8_t> payload) {
  ByteReader reader(payload);
  auto pid = reader.U32();
  if (!pid) return Error("truncated Started");
  if (*pid == 0 || *pid > kMaxPid) return Error(StrFormat("Started names an invalid pid {}", *pid));
  return *pid;
}

std::vector<uint8_t> EncodeAttach(const AttachRequest& attach) {
  ByteWriter writer;
  writer.U32(attach.pid);
  writer.U64(attach.stdout_bytes);
  writer.U64(attach.stderr_bytes);
  return Finish(FrameType::kAttach, writer);
}

Result<AttachRequest> DecodeAttach(std::span<const uint8_t> payload) {
  ByteReader reader(payload);
  auto pid = reader.U32();
  auto out = reader.U64();
  auto err = reader.U64();
  if (!pid || !out || !err) return Error("truncated Attach");
  if (*pid == 0 || *pid > kMaxPid) return Error(StrFormat("Attach names an invalid pid {}", *pid));
  return AttachRequest{*pid, *out, *err};
}

}  // namespace vk::proto
