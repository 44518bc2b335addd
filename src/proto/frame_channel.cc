#include "proto/frame_channel.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "base/fd_io.h"
#include "proto/str_format.h"

namespace vk::proto {
namespace {

constexpr size_t kReadChunk = 64 * 1024;

}  // namespace

Result<FrameChannel> FrameChannel::Create(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    return Error::FromErrno("make exec connection non-blocking");
  }
  return FrameChannel(fd);
}

void FrameChannel::Queue(std::span<const uint8_t> encoded_frame) {
  if (out_offset_ > 0 && out_offset_ == out_.size()) {
    out_.clear();
    out_offset_ = 0;
  }
  out_.insert(out_.end(), encoded_frame.begin(), encoded_frame.end());
}

void FrameChannel::QueueData(FrameType type, std::span<const uint8_t> data) {
  if (out_offset_ > 0 && out_offset_ == out_.size()) {
    out_.clear();
    out_offset_ = 0;
  }
  AppendFrame(out_, type, data);
}

Result<void> FrameChannel::Flush() {
  while (pending_out() > 0) {
    const ssize_t sent = send(fd_, out_.data() + out_offset_, pending_out(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && errno == EAGAIN) break;
    if (sent < 0) return Error::FromErrno("send on exec connection");
    out_offset_ += static_cast<size_t>(sent);
  }
  // Compact once the sent prefix dominates, keeping the buffer bounded.
  if (out_offset_ > 0 && out_offset_ * 2 >= out_.size()) {
    out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(out_offset_));
    out_offset_ = 0;
  }
  return Ok();
}

Result<void> FrameChannel::FlushBlocking(int timeout_ms) {
  const Deadline deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    VK_TRY(Flush());
    if (!WantsWrite()) return Ok();
    VK_TRY_CTX(WaitForFd(fd_, POLLOUT, deadline), "flush exec connection");
  }
}

Result<FrameChannel::ReadState> FrameChannel::Receive() {
  uint8_t buffer[kReadChunk];
  for (;;) {
    const ssize_t got = read(fd_, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno == EAGAIN) return ReadState::kOpen;
    if (got < 0) return Error::FromErrno("read exec connection");
    if (got == 0) return ReadState::kEof;
    decoder_.Feed({buffer, static_cast<size_t>(got)});
    return ReadState::kOpen;
  }
}

Hello OurHello(Role role) {
  Hello hello;
  hello.role = role;
  hello.software = StrFormat("{} {}.{}", role == Role::kHost ? "vk" : "vk-agent", kProtocolMajor,
                             kProtocolMinor);
  return hello;
}

Result<Hello> AcceptHelloFrame(const Frame& frame, Role peer_role) {
  if (frame.type == FrameType::kError) {
    return Error(StrFormat("peer refused the connection: {}", DecodeError(frame.payload)));
  }
  if (frame.type != FrameType::kHello) {
    return Error(StrFormat("expected Hello as the first frame, got {}", FrameTypeName(frame.type)));
  }
  Hello hello = VK_TRY(DecodeHello(frame.payload));
  VK_TRY(CheckPeerHello(hello, peer_role));
  return hello;
}

Result<Hello> ExchangeHello(int fd, Role our_role, int timeout_ms) {
  const Deadline deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  const Role peer_role = our_role == Role::kHost ? Role::kAgent : Role::kHost;
  VK_TRY_CTX(WriteAllBefore(fd, EncodeHello(OurHello(our_role)), deadline), "send hello");
  uint8_t header[kFrameHeaderSize];
  VK_TRY_CTX(ReadExactlyBefore(fd, header, deadline), "read peer hello");
  const uint32_t length = (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) |
                          (uint32_t{header[2]} << 8) | uint32_t{header[3]};
  if (length > 4096 || !IsKnownFrameType(header[4])) {  // peer-controlled
    return Error("peer does not speak the vk exec protocol (bad first frame)");
  }
  Frame frame{static_cast<FrameType>(header[4]), std::vector<uint8_t>(length)};
  VK_TRY_CTX(ReadExactlyBefore(fd, frame.payload, deadline), "read peer hello");
  return AcceptHelloFrame(frame, peer_role);
}

}  // namespace vk::proto
