#include "virtio/vhost_user/message.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace vk::virtio::vhost_user {
namespace {

// What a request's payload is, which bounds its `size` and its fds.
enum class Kind { kNone, kU64, kVringFd, kVringState, kVringAddress, kMemory, kConfig, kUnknown };

Kind KindOf(uint32_t request) {
  switch (static_cast<Request>(request)) {
    case Request::kGetFeatures:
    case Request::kSetOwner:
    case Request::kResetOwner:
    case Request::kGetProtocolFeatures:
    case Request::kGetQueueNum:
    case Request::kResetDevice: return Kind::kNone;
    case Request::kSetFeatures:
    case Request::kSetProtocolFeatures: return Kind::kU64;
    case Request::kSetVringKick:
    case Request::kSetVringCall:
    case Request::kSetVringErr: return Kind::kVringFd;
    case Request::kSetVringNum:
    case Request::kSetVringBase:
    case Request::kGetVringBase:
    case Request::kSetVringEnable: return Kind::kVringState;
    case Request::kSetVringAddr: return Kind::kVringAddress;
    case Request::kSetMemTable: return Kind::kMemory;
    case Request::kGetConfig:
    case Request::kSetConfig: return Kind::kConfig;
    default: return Kind::kUnknown;
  }
}

// "Memory regions description": u32 count, u32 padding, then the regions.
constexpr size_t kMemoryHeaderBytes = 8;

uint32_t MaxPayload(Kind kind) {
  switch (kind) {
    case Kind::kNone: return 0;
    case Kind::kU64:
    case Kind::kVringFd: return sizeof(uint64_t);
    case Kind::kVringState: return sizeof(VringState);
    case Kind::kVringAddress: return sizeof(VringAddress);
    case Kind::kMemory: return kMemoryHeaderBytes + kMaxRegions * sizeof(MemoryRegion);
    case Kind::kConfig: return kConfigHeaderBytes + kMaxConfigBytes;
    case Kind::kUnknown: return kMaxUnknownPayloadBytes;
  }
  return 0;
}

template <typename T>
T Load(std::span<const uint8_t> bytes, size_t offset = 0) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

template <typename T>
std::vector<uint8_t> Bytes(const T& value) {
  std::vector<uint8_t> out(sizeof(T));
  std::memcpy(out.data(), &value, sizeof(T));
  return out;
}

Error Malformed(uint32_t request, const std::string& what) {
  return Error("vhost-user request " + std::to_string(request) + ": " + what);
}

// Exactly `expected` payload bytes.
Result<void> ExpectSize(const Header& header, size_t actual, size_t expected) {
  if (actual != expected) {
    return Malformed(header.request, "payload of " + std::to_string(actual) +
                                         " bytes where the request defines " +
                                         std::to_string(expected));
  }
  return Ok();
}

Result<Payload> ParseMemoryTable(const Header& header, std::span<const uint8_t> payload,
                                 size_t fd_count) {
  if (payload.size() < kMemoryHeaderBytes) return Malformed(header.request, "short memory table");
  uint32_t count = Load<uint32_t>(payload);
  if (count == 0 || count > kMaxRegions) {
    return Malformed(header.request, std::to_string(count) + " memory regions (1 to " +
                                         std::to_string(kMaxRegions) + " allowed)");
  }
  VK_TRY(ExpectSize(header, payload.size(), kMemoryHeaderBytes + count * sizeof(MemoryRegion)));
  if (fd_count != count) return Malformed(header.request, "not one fd per memory region");
  std::vector<MemoryRegion> regions(count);
  for (uint32_t i = 0; i < count; ++i) {
    regions[i] = Load<MemoryRegion>(payload, kMemoryHeaderBytes + i * sizeof(MemoryRegion));
  }
  return Payload(std::move(regions));
}

Result<Payload> ParseConfig(const Header& header, std::span<const uint8_t> payload) {
  if (payload.size() < kConfigHeaderBytes) return Malformed(header.request, "short config");
  uint32_t offset = Load<uint32_t>(payload, 0);
  uint32_t size = Load<uint32_t>(payload, 4);
  if (size > kMaxConfigBytes) return Malformed(header.request, "config access over 256 bytes");
  VK_TRY(ExpectSize(header, payload.size(), kConfigHeaderBytes + size));
  ConfigSpace config;
  config.offset = offset;
  config.flags = Load<uint32_t>(payload, 8);
  config.data.assign(payload.begin() + kConfigHeaderBytes, payload.end());
  return Payload(std::move(config));
}

Result<Payload> ParsePayload(const Header& header, Kind kind, std::span<const uint8_t> payload,
                             size_t fd_count) {
  switch (kind) {
    case Kind::kNone: VK_TRY(ExpectSize(header, payload.size(), 0)); return Payload();
    case Kind::kU64:
      VK_TRY(ExpectSize(header, payload.size(), 8));
      return Payload(Load<uint64_t>(payload));
    case Kind::kVringFd: {
      VK_TRY(ExpectSize(header, payload.size(), 8));
      uint64_t value = Load<uint64_t>(payload);
      size_t fds = (value & kVringNoFd) ? 0 : 1;
      if (fd_count != fds) return Malformed(header.request, "vring fd flag and fds disagree");
      return Payload(value);
    }
    case Kind::kVringState:
      VK_TRY(ExpectSize(header, payload.size(), sizeof(VringState)));
      return Payload(Load<VringState>(payload));
    case Kind::kVringAddress:
      VK_TRY(ExpectSize(header, payload.size(), sizeof(VringAddress)));
      return Payload(Load<VringAddress>(payload));
    case Kind::kMemory: return ParseMemoryTable(header, payload, fd_count);
    case Kind::kConfig: return ParseConfig(header, payload);
    case Kind::kUnknown: return Payload(UnknownPayload{});
  }
  return Payload();
}

}  // namespace

Result<Header> ParseHeader(std::span<const uint8_t> bytes) {
  if (bytes.size() != kHeaderBytes) return Error("vhost-user header is not 12 bytes");
  Header header = Load<Header>(bytes);
  if ((header.flags & kFlagVersionMask) != kFlagVersion) {
    return Malformed(
        header.request,
        "protocol version " + std::to_string(header.flags & kFlagVersionMask) + " (only 1 exists)");
  }
  if (header.flags & kFlagReply) return Malformed(header.request, "a reply sent as a request");
  uint32_t max = MaxPayload(KindOf(header.request));
  if (header.size > max) {
    return Malformed(header.request, "payload size " + std::to_string(header.size) +
                                         " over the request's maximum of " + std::to_string(max));
  }
  return header;
}

Result<Message> ParseMessage(std::span<const uint8_t> header_bytes,
                             std::span<const uint8_t> payload, std::vector<UniqueFd> fds) {
  Header header = VK_TRY(ParseHeader(header_bytes));
  if (payload.size() != header.size) return Malformed(header.request, "payload size mismatch");
  if (fds.size() > kMaxFds) return Malformed(header.request, "too many fds");
  Kind kind = KindOf(header.request);
  bool takes_fds = kind == Kind::kMemory || kind == Kind::kVringFd || kind == Kind::kUnknown;
  if (!takes_fds && !fds.empty()) return Malformed(header.request, "unexpected fds");
  Message message;
  message.request = header.request;
  message.flags = header.flags;
  message.payload = VK_TRY(ParsePayload(header, kind, payload, fds.size()));
  message.fds = std::move(fds);
  return message;
}

namespace {

// Takes ownership of every fd in the ancillary data before anything is
// checked, so an error path closes them all.
Result<std::vector<UniqueFd>> TakeFds(msghdr& msg) {
  std::vector<UniqueFd> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      fds.emplace_back(fd);
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) return Error("vhost-user message carries too many fds");
  if (fds.size() > kMaxFds) return Error("vhost-user message carries too many fds");
  return fds;
}

Result<void> ReadExactly(int socket, std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::recv(socket, out.data() + done, out.size() - done, MSG_WAITALL);
    if (n == 0) return Error("vhost-user front end closed the connection mid-message");
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno("read vhost-user payload");
    }
    done += static_cast<size_t>(n);
  }
  return Ok();
}

}  // namespace

Result<std::optional<Message>> ReadMessage(int socket) {
  uint8_t header_bytes[kHeaderBytes];
  alignas(cmsghdr) uint8_t control[CMSG_SPACE(kMaxFds * sizeof(int))];
  iovec iov{header_bytes, sizeof(header_bytes)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = ::recvmsg(socket, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::FromErrno("read vhost-user message");
  std::vector<UniqueFd> fds = VK_TRY(TakeFds(msg));
  if (n == 0) return std::optional<Message>();  // closed between messages
  // The fds came with the first bytes: the rest of the header follows.
  auto header_span = std::span<uint8_t>(header_bytes);
  if (static_cast<size_t>(n) < kHeaderBytes) VK_TRY(ReadExactly(socket, header_span.subspan(n)));
  Header header = VK_TRY(ParseHeader(header_span));
  std::vector<uint8_t> payload(header.size);
  VK_TRY(ReadExactly(socket, payload));
  return std::optional<Message>(VK_TRY(ParseMessage(header_span, payload, std::move(fds))));
}

Result<void> SendMessage(int socket, const Header& header, std::span<const uint8_t> payload,
                         std::span<const int> fds) {
  if (fds.size() > kMaxFds) return Error("too many fds for one vhost-user message");
  std::vector<uint8_t> bytes = Bytes(header);
  bytes.insert(bytes.end(), payload.begin(), payload.end());
  alignas(cmsghdr) uint8_t control[CMSG_SPACE(kMaxFds * sizeof(int))] = {};
  iovec iov{bytes.data(), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(fds.size() * sizeof(int));
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
    std::memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
  }
  size_t done = 0;
  while (done < bytes.size()) {
    iov = {bytes.data() + done, bytes.size() - done};
    ssize_t n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno("write vhost-user message");
    }
    done += static_cast<size_t>(n);
    msg.msg_control = nullptr;  // the fds went with the first bytes
    msg.msg_controllen = 0;
  }
  return Ok();
}

Result<void> WriteReply(int socket, const Reply& reply) {
  Header header{reply.request, kFlagVersion | kFlagReply,
                static_cast<uint32_t>(reply.payload.size())};
  return SendMessage(socket, header, reply.payload);
}

std::vector<uint8_t> EncodeU64(uint64_t value) { return Bytes(value); }
std::vector<uint8_t> EncodeVringState(const VringState& state) { return Bytes(state); }
std::vector<uint8_t> EncodeVringAddress(const VringAddress& address) { return Bytes(address); }

std::vector<uint8_t> EncodeMemoryTable(std::span<const MemoryRegion> regions) {
  std::vector<uint8_t> out(kMemoryHeaderBytes);
  uint32_t count = static_cast<uint32_t>(regions.size());
  std::memcpy(out.data(), &count, 4);
  for (const MemoryRegion& region : regions) {
    auto bytes = Bytes(region);
    out.insert(out.end(), bytes.begin(), bytes.end());
  }
  return out;
}

std::vector<uint8_t> EncodeConfig(const ConfigSpace& config) {
  uint32_t fields[3] = {config.offset, static_cast<uint32_t>(config.data.size()), config.flags};
  std::vector<uint8_t> out(kConfigHeaderBytes + config.data.size());
  std::memcpy(out.data(), fields, sizeof(fields));
  if (!config.data.empty()) {
    std::memcpy(out.data() + kConfigHeaderBytes, config.data.data(), config.data.size());
  }
  return out;
}

bool HasOwnReply(uint32_t request) {
  switch (static_cast<Request>(request)) {
    case Request::kGetFeatures:
    case Request::kGetProtocolFeatures:
    case Request::kGetQueueNum:
    case Request::kGetVringBase:
    case Request::kGetConfig: return true;
    default: return false;
  }
}

}  // namespace vk::virtio::vhost_user
