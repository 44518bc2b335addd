// Test helper: a TCP relay on 127.0.0.1 (random port) in front of a local
// server. It counts every byte clients send (what a push really puts on the
// wire) and, once armed, cuts the connection that carries a given byte, so
// tests can drop an upload half way.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vk::image::testing {

class CuttingProxy {
 public:
  explicit CuttingProxy(int target_port) : target_port_(target_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = Loopback(0);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(listen_fd_, 64);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }
  ~CuttingProxy() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    accept_thread_.join();
    std::lock_guard lock(mutex_);
    for (std::thread& t : relays_) t.join();
    ::close(listen_fd_);
  }
  std::string authority() const { return "127.0.0.1:" + std::to_string(port_); }
  uint64_t client_bytes() const { return client_bytes_; }
  // The connection whose client bytes cross client_bytes() + `bytes` is
  // closed on both sides (once).
  void CutAfter(uint64_t bytes) { cut_at_ = client_bytes_ + bytes; }
  bool did_cut() const { return cut_done_; }
  // Sleeps this long after each read from the server (at most 64 KiB), so
  // a download lasts long enough to be interrupted.
  void Throttle(std::chrono::microseconds per_read) { throttle_us_ = per_read.count(); }

 private:
  static sockaddr_in Loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    return a;
  }
  void AcceptLoop() {
    for (;;) {
      int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0 || stop_) {
        if (client >= 0) ::close(client);
        return;
      }
      std::lock_guard lock(mutex_);
      relays_.emplace_back([this, client] { Relay(client); });
    }
  }
  void Relay(int client) {
    int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a = Loopback(target_port_);
    if (::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) Pump(client, server);
    ::close(server);
    ::close(client);
  }
  void Pump(int client, int server) {
    char buffer[64 << 10];
    while (!stop_) {
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (::poll(fds, 2, 100) <= 0) continue;
      for (int side = 0; side < 2; ++side) {
        if (!(fds[side].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = ::read(fds[side].fd, buffer, sizeof buffer);
        if (n <= 0) return;
        if (side == 0) {
          uint64_t total = client_bytes_ += static_cast<uint64_t>(n);
          uint64_t cut = cut_at_;
          if (cut != 0 && total >= cut && !cut_done_.exchange(true)) return;
        }
        if (side == 1 && throttle_us_ > 0)
          std::this_thread::sleep_for(std::chrono::microseconds(throttle_us_));
        if (!WriteAll(fds[1 - side].fd, buffer, static_cast<size_t>(n))) return;
      }
    }
  }
  static bool WriteAll(int fd, const char* data, size_t size) {
    while (size > 0) {
      ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
      if (n <= 0) return false;
      data += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }

  int target_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> client_bytes_{0};
  std::atomic<uint64_t> cut_at_{0};
  std::atomic<bool> cut_done_{false};
  std::atomic<int64_t> throttle_us_{0};
  std::mutex mutex_;
  std::vector<std::thread> relays_;
  std::thread accept_thread_;
};

}  // namespace vk::image::testing
