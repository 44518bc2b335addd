#include "net/datagram_port.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace vk::net {
namespace {

// Fairness: at most this many frames per readiness event, so one busy
// descriptor cannot starve the loop's others (level-triggered: the rest
// is read on the next round).
constexpr int kFramesPerEvent = 64;

Result<void> SetNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
    return Error::FromErrno("set O_NONBLOCK");
  return Ok();
}

Result<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path))
    return Error("unix socket path is empty or longer than 107 bytes: " + path);
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

}  // namespace

Result<std::unique_ptr<DatagramPort>> DatagramPort::Create(EventLoop& loop, UniqueFd fd,
                                                           FrameSink* peer) {
  if (!fd) return Error("datagram port: no descriptor");
  VK_TRY_CTX(SetNonBlocking(fd.get()), "datagram port");
  const int raw = fd.get();
  std::unique_ptr<DatagramPort> port(new DatagramPort(loop, std::move(fd), peer));
  DatagramPort* self = port.get();
  VK_TRY_CTX(loop.Add(raw, EPOLLIN, [self](uint32_t) { self->ReadAvailable(); }), "datagram port");
  return port;
}

DatagramPort::DatagramPort(EventLoop& loop, UniqueFd fd, FrameSink* peer)
    : loop_(loop), peer_(peer), fd_(std::move(fd)), read_buffer_(kMaxFrame + 1) {}

DatagramPort::~DatagramPort() { loop_.Remove(fd_.get()); }

DatagramPortCounters DatagramPort::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

bool DatagramPort::Deliver(std::span<const uint8_t> frame) {
  bool sent = !frame.empty() && frame.size() <= kMaxFrame &&
              ::write(fd_.get(), frame.data(), frame.size()) == static_cast<ssize_t>(frame.size());
  std::lock_guard lock(mutex_);
  ++(sent ? counters_.tx_frames : counters_.tx_dropped);
  return sent;
}

void DatagramPort::ReadAvailable() {
  for (int i = 0; i < kFramesPerEvent; ++i) {
    const ssize_t n = ::read(fd_.get(), read_buffer_.data(), read_buffer_.size());
    if (n < 0) return;  // EAGAIN, or an error the next write reports too
    const auto size = static_cast<size_t>(n);
    // Not under mutex_: the peer may answer through Deliver() at once.
    const bool delivered = size > 0 && size <= kMaxFrame && peer_ != nullptr &&
                           peer_->Deliver(std::span(read_buffer_.data(), size));
    std::lock_guard lock(mutex_);
    ++(delivered ? counters_.rx_frames : counters_.rx_dropped);
  }
}

Result<UniqueFd> ConnectUnixDatagram(const std::string& peer_path, const std::string& local_path,
                                     std::span<const uint8_t> greeting) {
  const sockaddr_un peer = VK_TRY(UnixAddress(peer_path));
  const sockaddr_un local = VK_TRY(UnixAddress(local_path));
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return Error::FromErrno("socket");
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local), sizeof(local)) < 0)
    return Error::FromErrno("bind " + local_path);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&peer), sizeof(peer)) < 0) {
    const int err = errno;
    ::unlink(local_path.c_str());
    return Error::FromErrno("connect " + peer_path, err);
  }
  if (!greeting.empty() && ::send(fd.get(), greeting.data(), greeting.size(), 0) < 0) {
    const int err = errno;
    ::unlink(local_path.c_str());
    return Error::FromErrno("greet " + peer_path, err);
  }
  return fd;
}

Result<UniqueFd> OpenTap(const std::string& name) {
  ifreq request{};
  if (name.empty() || name.size() >= sizeof(request.ifr_name))
    return Error("tap name is empty or longer than 15 bytes: " + name, EINVAL);
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK));
  if (!fd) return Error::FromErrno("open /dev/net/tun");
  std::memcpy(request.ifr_name, name.data(), name.size());
  request.ifr_flags = IFF_TAP | IFF_NO_PI;
  if (::ioctl(fd.get(), TUNSETIFF, &request) < 0)
    return Error::FromErrno("attach to tap " + name + " (it must exist and be yours)");
  return fd;
}

}  // namespace vk::net
