#include "net/stream_port.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>

#include "base/log.h"
#include "base/unix_socket.h"

namespace vk::net {
namespace {

constexpr size_t kPrefix = 4;
// Fairness: at most this much is read per readiness event, so one busy
// socket cannot starve the other fds of the loop (level-triggered: the rest
// is read on the next round).
constexpr size_t kReadChunk = 64 * 1024;
constexpr int kReadsPerEvent = 16;

void PutBe32(uint8_t* p, uint32_t v) {
  p[0] = v >> 24, p[1] = (v >> 16) & 0xff, p[2] = (v >> 8) & 0xff, p[3] = v & 0xff;
}

Result<void> SetNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return Error::FromErrno("set O_NONBLOCK");
  }
  return Ok();
}

}  // namespace

// --- StreamFrameReader ---

Result<void> StreamFrameReader::Feed(std::span<const uint8_t> bytes,
                                     const FrameCallback& on_frame) {
  if (failed_) return Error("stream framing was lost earlier");
  while (!bytes.empty()) {
    if (prefix_have_ < kPrefix) {
      size_t n = std::min(kPrefix - prefix_have_, bytes.size());
      std::memcpy(prefix_ + prefix_have_, bytes.data(), n);
      prefix_have_ += n;
      bytes = bytes.subspan(n);
      if (prefix_have_ < kPrefix) break;
      length_ = uint32_t{prefix_[0]} << 24 | uint32_t{prefix_[1]} << 16 |
                uint32_t{prefix_[2]} << 8 | prefix_[3];
      if (length_ == 0 || length_ > kMaxFrame) {
        failed_ = true;
        return Error(fmt::format("frame length {} outside 1..{}", length_, kMaxFrame));
      }
      frame_.clear();
      continue;
    }
    size_t want = length_ - frame_.size();
    if (frame_.empty() && bytes.size() >= want) {  // whole frame in hand: no copy
      on_frame(bytes.first(want));
    } else {
      size_t n = std::min(want, bytes.size());
      frame_.insert(frame_.end(), bytes.begin(), bytes.begin() + n);
      bytes = bytes.subspan(n);
      if (frame_.size() < length_) break;
      on_frame(frame_);
      want = 0;
    }
    bytes = bytes.subspan(want);
    prefix_have_ = 0;
    frame_.clear();
  }
  return Ok();
}

// --- StreamPort ---

Result<std::unique_ptr<StreamPort>> StreamPort::Create(EventLoop& loop, UniqueFd socket,
                                                       FrameSink* peer, StreamPortOptions options) {
  if (!socket) return Error("stream port: no socket");
  if (options.max_outgoing_bytes < kPrefix + kMaxFrame) {
    return Error("stream port: the outgoing buffer must hold one maximum-size frame");
  }
  VK_TRY_CTX(SetNonBlocking(socket.get()), "stream port");
  int fd = socket.get();
  std::unique_ptr<StreamPort> port(new StreamPort(loop, std::move(socket), peer, options));
  StreamPort* self = port.get();
  VK_TRY_CTX(loop.Add(fd, EPOLLIN, [self](uint32_t events) { self->OnEvent(events); }),
             "stream port");
  return port;
}

StreamPort::StreamPort(EventLoop& loop, UniqueFd socket, FrameSink* peer, StreamPortOptions options)
    : loop_(loop), options_(options), peer_(peer), socket_(std::move(socket)) {}

StreamPort::~StreamPort() {
  std::lock_guard lock(mutex_);
  if (socket_) loop_.Remove(socket_.get());
}

bool StreamPort::connected() const {
  std::lock_guard lock(mutex_);
  return socket_.valid() && !write_failed_;
}

StreamPortCounters StreamPort::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

bool StreamPort::Deliver(std::span<const uint8_t> frame) {
  std::lock_guard lock(mutex_);
  size_t pending = out_.size() - out_head_;
  if (!socket_ || write_failed_ || frame.empty() || frame.size() > kMaxFrame ||
      (pending > 0 && pending + kPrefix + frame.size() > options_.max_outgoing_bytes)) {
    ++counters_.tx_dropped;
    return false;
  }
  uint8_t prefix[kPrefix];
  PutBe32(prefix, static_cast<uint32_t>(frame.size()));
  size_t sent = 0;
  if (pending == 0) {  // nothing queued: try the socket directly, no copy
    iovec iov[2] = {{prefix, kPrefix}, {const_cast<uint8_t*>(frame.data()), frame.size()}};
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = 2;
    ssize_t n = ::sendmsg(socket_.get(), &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      write_failed_ = true;  // the loop sees EPOLLHUP/EPOLLERR and disconnects
      ++counters_.tx_dropped;
      return false;
    }
    sent = n > 0 ? static_cast<size_t>(n) : 0;
  }
  ++counters_.tx_frames;
  if (sent == kPrefix + frame.size()) return true;
  // Queue the unsent rest, whole, so the stream never loses framing.
  for (size_t i = sent; i < kPrefix; ++i) out_.push_back(prefix[i]);
  size_t from = sent > kPrefix ? sent - kPrefix : 0;
  out_.insert(out_.end(), frame.begin() + from, frame.end());
  auto armed = loop_.Modify(socket_.get(), EPOLLIN | EPOLLOUT);
  (void)armed;
  return true;
}

void StreamPort::FlushLocked() {
  while (out_head_ < out_.size()) {
    ssize_t n = ::send(socket_.get(), out_.data() + out_head_, out_.size() - out_head_,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n <= 0) {
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) write_failed_ = true;
      break;
    }
    out_head_ += static_cast<size_t>(n);
  }
  if (out_head_ == out_.size() || write_failed_) {
    out_.clear();
    out_head_ = 0;
    auto armed = loop_.Modify(socket_.get(), EPOLLIN);
    (void)armed;
  } else if (out_head_ > out_.size() / 2) {  // keep the buffer from creeping
    out_.erase(out_.begin(), out_.begin() + static_cast<ptrdiff_t>(out_head_));
    out_head_ = 0;
  }
}

void StreamPort::OnEvent(uint32_t events) {
  if ((events & EPOLLIN) && !ReadAvailable()) return;  // `this` may be gone
  if (events & EPOLLOUT) {
    std::lock_guard lock(mutex_);
    if (socket_) FlushLocked();
  }
  // With EPOLLIN too, data may still be queued: reading reaches EOF later.
  if ((events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN)) {
    Disconnect(Error("stream port: connection closed"));
  } else if (std::unique_lock lock(mutex_); write_failed_) {
    lock.unlock();
    Disconnect(Error("stream port: write failed"));
  }
}

bool StreamPort::ReadAvailable() {
  uint8_t buffer[kReadChunk];
  for (int i = 0; i < kReadsPerEvent; ++i) {
    int fd;
    {
      std::lock_guard lock(mutex_);
      if (!socket_) return false;
      fd = socket_.get();
    }
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
    if (n <= 0) {
      Disconnect(n == 0 ? Error("stream port: peer closed the connection")
                        : Error::FromErrno("stream port: read"));
      return false;
    }
    auto fed = reader_.Feed(std::span(buffer, static_cast<size_t>(n)),
                            [this](std::span<const uint8_t> frame) { HandleFrame(frame); });
    if (!fed.ok()) {
      Disconnect(std::move(fed).error().WithContext("stream port: bad framing, disconnecting"));
      return false;
    }
  }
  return true;
}

void StreamPort::HandleFrame(std::span<const uint8_t> frame) {
  // Not under mutex_: the peer may answer through our Deliver() at once.
  bool delivered = peer_ != nullptr && peer_->Deliver(frame);
  std::lock_guard lock(mutex_);
  ++(delivered ? counters_.rx_frames : counters_.rx_dropped);
}

void StreamPort::Disconnect(const Error& why) {
  {
    std::lock_guard lock(mutex_);
    if (!socket_) return;
    loop_.Remove(socket_.get());
    socket_.Reset();
    out_.clear();
    out_head_ = 0;
  }
  // A port with an owner watching (a switch's peer, which may leave at any
  // time: a VM powering off) is the owner's to report; a VM's own link to
  // its switch going away is worth a warning.
  if (!on_disconnect_) log::Warn("{}", why.message());
  if (on_disconnect_) {
    DisconnectCallback callback = std::move(on_disconnect_);
    callback(why);  // may destroy this port: touch nothing after it
  }
}

// --- unix socket helpers (base/unix_socket.h does the socket work) ---

Result<UniqueFd> ConnectUnixStream(const std::string& path) {
  UniqueFd fd = VK_TRY(ConnectUnix(path));
  VK_TRY(SetNonBlocking(fd.get()));
  return fd;
}

Result<UniqueFd> ListenUnixStream(const std::string& path) {
  // Replace a stale socket from an earlier run, never some other file.
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
  return ListenUnix(path, 16, SocketBlocking::kNonBlocking);
}

// Only our own uid joins the LAN: another local user's VM or process must
// not get a port on it (the socket is 0600 too; this holds where its
// directory or mode were loosened).
Result<UniqueFd> AcceptUnixStream(int listener) {
  UniqueFd fd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
  if (!fd) return Error::FromErrno("accept");
  VK_TRY(CheckPeerIsOwner(fd.get()));
  return fd;
}

}  // namespace vk::net
