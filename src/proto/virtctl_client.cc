#include "proto/virtctl_client.h"

#include <unistd.h>

#include <cerrno>
#include <string>

#include "base/fd_io.h"

namespace vk::proto {
namespace {

// Lines from a stream, buffered (log chunks come in many KiB at a time).
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}

  Result<std::string> Next() {
    for (;;) {
      if (size_t end = buffer_.find('\n'); end != std::string::npos) {
        std::string line = buffer_.substr(0, end + 1);
        buffer_.erase(0, end + 1);
        return line;
      }
      if (buffer_.size() > kMaxVirtctlLine)
        return Error("a reply line is longer than " + std::to_string(kMaxVirtctlLine) + " bytes");
      char chunk[16384];
      ssize_t n = ::read(fd_, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error::FromErrno("read the reply");
      if (n == 0) return Error("the controller closed the connection before replying");
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  std::string buffer_;
};

}  // namespace

Result<VirtctlReply> ExchangeVirtctl(int fd, const VirtctlRequest& request,
                                     const std::function<void(std::string_view)>& on_log) {
  VK_TRY_CTX(WriteAll(fd, EncodeVirtctlRequest(request)), "send the request");
  LineReader reader(fd);
  for (;;) {
    std::string line = VK_TRY(reader.Next());
    VirtctlServerLine decoded = VK_TRY(DecodeVirtctlServerLine(line));
    if (auto* reply = std::get_if<VirtctlReply>(&decoded)) return std::move(*reply);
    if (on_log) on_log(std::get<LogChunk>(decoded).text);
  }
}

}  // namespace vk::proto
