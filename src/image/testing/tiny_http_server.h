// Test helper: a tiny HTTP/1.1 server on 127.0.0.1 (random port) that answers
// each request with whatever the test's handler returns, and records the
// requests. One connection at a time, "Connection: close" responses.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace vk::image::testing {

struct TinyRequest {
  std::string method, path;
  std::string headers;  // raw header block, lower-cased
};

class TinyHttpServer {
 public:
  // Returns the full response text (status line, headers, body).
  using Handler = std::function<std::string(const TinyRequest&)>;

  explicit TinyHttpServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] { Loop(); });
  }
  ~TinyHttpServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  std::string authority() const { return "127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  std::vector<TinyRequest> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

  static std::string Response(int status, const std::string& headers, const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) +
           " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" +
           headers + "\r\n" + body;
  }

 private:
  void Loop() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string raw;
      char buf[4096];
      while (raw.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        raw.append(buf, static_cast<size_t>(n));
      }
      TinyRequest r;
      size_t sp1 = raw.find(' '), sp2 = raw.find(' ', sp1 + 1);
      if (sp1 != std::string::npos && sp2 != std::string::npos) {
        r.method = raw.substr(0, sp1);
        r.path = raw.substr(sp1 + 1, sp2 - sp1 - 1);
        r.headers = raw.substr(raw.find("\r\n") + 2);
        for (char& ch : r.headers) ch = static_cast<char>(std::tolower(ch));
      }
      {
        std::lock_guard lock(mutex_);
        requests_.push_back(r);
      }
      std::string response = handler_(r);
      (void)!::write(c, response.data(), response.size());
      ::close(c);
    }
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<TinyRequest> requests_;
};

}  // namespace vk::image::testing
