#include "proto/virtctl_client.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

#include "base/fd_io.h"

namespace vk::proto {
namespace {

// Reads per read(): a log stream arrives in chunks of up to kMaxLogChunk.
constexpr size_t kReadSize = 64 * 1024;

// Reply lines off the connection, buffered (a log stream comes in chunks),
// each bounded by kMaxVirtctlLine.
class LineReader {
 public:
  explicit LineReader(int fd) : fd_(fd) {}

  // The next line, newline included; at EOF a last line without one, or an
  // error when nothing is left.
  Result<std::string> Next() {
    for (size_t scanned = 0;;) {
      size_t newline = buffer_.find('\n', scanned);
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline + 1);
        buffer_.erase(0, newline + 1);
        return line;
      }
      scanned = buffer_.size();
      if (buffer_.size() >= kMaxVirtctlLine) {
        return Error("a reply line is over the limit of " + std::to_string(kMaxVirtctlLine) +
                     " bytes");
      }
      if (!VK_TRY(Fill())) return TakeRest();
    }
  }

 private:
  // Reads more onto the buffer; false at EOF.
  Result<bool> Fill() {
    size_t had = buffer_.size();
    buffer_.resize(had + kReadSize);
    ssize_t n;
    do {
      n = ::read(fd_, buffer_.data() + had, kReadSize);
    } while (n < 0 && errno == EINTR);
    int err = errno;
    buffer_.resize(had + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    if (n < 0) return Error::FromErrno("read", err);
    return n > 0;
  }

  Result<std::string> TakeRest() {
    if (buffer_.empty()) return Error("the fleet controller closed the connection without a reply");
    return std::exchange(buffer_, {});
  }

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
    VirtctlServerLine decoded =
        VK_TRY_CTX(DecodeVirtctlServerLine(line), "bad reply from the fleet controller");
    if (auto* reply = std::get_if<VirtctlReply>(&decoded)) return std::move(*reply);
    if (on_log) on_log(std::get<LogChunk>(decoded).text);
  }
}

}  // namespace vk::proto
