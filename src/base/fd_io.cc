#include "base/fd_io.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace vk {
namespace {

// One write: send() with MSG_NOSIGNAL on a socket, write() on anything else.
ssize_t WriteSome(int fd, const uint8_t* data, size_t size) {
  ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
  if (n < 0 && errno == ENOTSOCK) n = ::write(fd, data, size);
  return n;
}

}  // namespace

Result<void> WaitForFd(int fd, short events, Deadline deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Error(ErrorKind::kTimeout, "timed out");
    pollfd entry{fd, events, 0};
    int ready = ::poll(&entry, 1, static_cast<int>(std::min<int64_t>(left.count(), INT32_MAX)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Error::FromErrno("poll");
    if (ready > 0) return Ok();
  }
}

namespace {

Error ClosedEarly(size_t done, size_t wanted) {
  return Error("connection closed after " + std::to_string(done) + " of " + std::to_string(wanted) +
               " bytes");
}

// The loops below take an optional deadline: without one the fd blocks.
Result<void> WriteLoop(int fd, std::span<const uint8_t> data, const Deadline* deadline) {
  size_t done = 0;
  while (done < data.size()) {
    if (deadline) VK_TRY(WaitForFd(fd, POLLOUT, *deadline));
    ssize_t n = WriteSome(fd, data.data() + done, data.size() - done);
    if (n < 0 && (errno == EINTR || (deadline && errno == EAGAIN))) continue;
    if (n < 0) return Error::FromErrno("write");
    done += static_cast<size_t>(n);
  }
  return Ok();
}

Result<void> ReadLoop(int fd, std::span<uint8_t> buffer, const Deadline* deadline) {
  size_t done = 0;
  while (done < buffer.size()) {
    if (deadline) VK_TRY(WaitForFd(fd, POLLIN, *deadline));
    ssize_t n = ::read(fd, buffer.data() + done, buffer.size() - done);
    if (n == 0) return ClosedEarly(done, buffer.size());
    if (n < 0 && (errno == EINTR || (deadline && errno == EAGAIN))) continue;
    if (n < 0) return Error::FromErrno("read");
    done += static_cast<size_t>(n);
  }
  return Ok();
}

// Ends one direction of a relay: the reader of `to` sees EOF.
void HalfClose(int to) {
  if (::shutdown(to, SHUT_WR) != 0 && errno == ENOTSOCK && to != STDOUT_FILENO) ::close(to);
}

}  // namespace

Result<void> WriteAll(int fd, std::span<const uint8_t> data) {
  return WriteLoop(fd, data, nullptr);
}

Result<void> WriteAll(int fd, std::string_view text) {
  return WriteLoop(fd, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, nullptr);
}

Result<void> ReadExactly(int fd, std::span<uint8_t> buffer) {
  return ReadLoop(fd, buffer, nullptr);
}

Result<void> WriteAllBefore(int fd, std::span<const uint8_t> data, Deadline deadline) {
  return WriteLoop(fd, data, &deadline);
}

Result<void> ReadExactlyBefore(int fd, std::span<uint8_t> buffer, Deadline deadline) {
  return ReadLoop(fd, buffer, &deadline);
}

void RelayBytes(int a_in, int a_out, int b) {
  pollfd fds[2] = {{a_in, POLLIN, 0}, {b, POLLIN, 0}};
  const int to[2] = {b, a_out};
  bool open[2] = {true, true};
  uint8_t buffer[65536];
  while (open[0] || open[1]) {
    fds[0].fd = open[0] ? a_in : -1;
    fds[1].fd = open[1] ? b : -1;
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (!open[i] || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || !WriteAll(to[i], {buffer, static_cast<size_t>(n)}).ok()) {
        open[i] = false;
        HalfClose(to[i]);
      }
    }
  }
}

}  // namespace vk
