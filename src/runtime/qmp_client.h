// QmpClient: the supervisor's side of a QEMU Machine Protocol connection
// (QEMU docs/interop/qmp-spec: a greeting, capabilities negotiation, then
// commands with one reply each and asynchronous events, one JSON object per
// CRLF-terminated line). `vk run --vmm qemu` needs it for what QEMU does not
// say through its exit status: a KVM internal error pauses the VM (a STOP
// event, query-status "internal-error") and QEMU keeps running.
//
// Everything QEMU sends is untrusted input: a line longer than kMaxLineBytes,
// a line that is not a JSON object, or a message of an unexpected shape is an
// error, never a crash. A protocol error is sticky: the stream can no longer
// be trusted, so every later call fails with it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk {

// One asynchronous event (qmp-spec 2.5: {"event", "data", "timestamp"}).
struct QmpEvent {
  std::string name;     // "SHUTDOWN", "STOP", "RESUME", ... ([A-Za-z0-9_-], at most 64 chars)
  nlohmann::json data;  // the "data" object; an empty object when the event has none
  // SHUTDOWN only: data.reason ("guest-shutdown", "guest-reset", "host-qmp-quit",
  // "host-signal", ...); empty for other events or when absent.
  std::string reason;
};

class QmpClient {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  // The longest line accepted from QEMU. Its real messages are far shorter
  // (query-status: ~80 bytes; the greeting: ~200); the bound keeps a broken
  // or hostile peer from growing our buffer without limit.
  static constexpr size_t kMaxLineBytes = size_t{1} << 20;

  // Connects to QEMU's QMP socket, retrying while it does not exist yet or
  // refuses connections (QEMU creates it during start-up) until `deadline`;
  // then reads the greeting and leaves capabilities negotiation mode.
  static Result<QmpClient> Connect(const std::string& socket_path, Deadline deadline);

  // A connection already past the greeting and capabilities negotiation
  // (the fuzzer feeds one a socketpair); made non-blocking here.
  static Result<QmpClient> AdoptNegotiated(UniqueFd connection);

  QmpClient(QmpClient&&) noexcept = default;
  QmpClient& operator=(QmpClient&&) noexcept = default;
  QmpClient(const QmpClient&) = delete;
  QmpClient& operator=(const QmpClient&) = delete;
  ~QmpClient() = default;

  // The socket (non-blocking), to poll for POLLIN before ReadEvents. Call
  // ReadEvents once after Connect and after every command before polling:
  // what arrived with a reply is held here, and poll cannot see it.
  int fd() const { return fd_.get(); }
  // QEMU closed the connection (it exited); no more events will come.
  bool closed() const { return closed_; }

  // Never blocks: the complete events that have arrived, including any that
  // came while a command waited for its reply. At EOF: what was left, and
  // closed() turns true. A partial last line at EOF is dropped (QEMU died
  // while writing it).
  Result<std::vector<QmpEvent>> ReadEvents();

  // query-status's "status": "prelaunch", "running", "paused",
  // "internal-error", "shutdown", ...
  Result<std::string> QueryStatus(Deadline deadline);
  // cont: starts the guest of a QEMU started with -S.
  Result<void> Cont(Deadline deadline);
  // quit: QEMU exits. Ok when QEMU closes the connection before replying.
  Result<void> Quit(Deadline deadline);

 private:
  explicit QmpClient(UniqueFd fd) : fd_(std::move(fd)) {}

  enum class ReadOutcome { kData, kWouldBlock, kEof };

  Result<void> Handshake(Deadline deadline);
  // Sends {"execute": command, "id": ...} and returns the reply's "return".
  Result<nlohmann::json> Execute(std::string_view command, Deadline deadline);
  // Appends what the socket has to buffer_ (one read).
  Result<ReadOutcome> ReadSome();
  // The next complete line from buffer_, without its CR LF.
  Result<std::optional<std::string>> TakeLine();
  // The next message from buffer_ or the socket, waiting until `deadline`;
  // nullopt at EOF.
  Result<std::optional<nlohmann::json>> NextMessage(Deadline deadline);
  // Parses one line; events are queued in pending_ and yield nullopt.
  Result<std::optional<nlohmann::json>> Decode(const std::string& line);
  Error Fail(Error error);

  UniqueFd fd_;
  std::string buffer_;                 // received bytes not yet taken as lines
  std::vector<QmpEvent> pending_;      // events not yet returned by ReadEvents
  std::optional<std::string> broken_;  // the sticky protocol error, if any
  bool closed_ = false;
  uint64_t next_id_ = 1;
};

}  // namespace vk
