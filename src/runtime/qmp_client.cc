#include "runtime/qmp_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <span>
#include <thread>

#include "base/fd_io.h"
#include "base/unix_socket.h"

namespace vk {
namespace {

using nlohmann::json;

// One read() takes at most this much; ReadEvents reads at most
// kReadsPerCall chunks, so a peer that never stops writing cannot keep the
// supervisor's event loop in one call (the fd stays readable for the next).
constexpr size_t kReadChunk = 64 * 1024;
constexpr int kReadsPerCall = 16;
// How often Connect retries while QEMU has not created its socket yet.
constexpr auto kConnectRetry = std::chrono::milliseconds(10);
// QMP names (events, statuses, shutdown reasons, error classes) are short
// identifiers; anything else is not QEMU talking.
constexpr size_t kMaxNameBytes = 64;
// How much of an untrusted text an error message quotes.
constexpr size_t kQuoteBytes = 120;

bool IsQmpName(const json& value) {
  if (!value.is_string()) return false;
  const auto& text = value.get_ref<const std::string&>();
  if (text.empty() || text.size() > kMaxNameBytes) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// Untrusted text for an error message: printable ASCII only, bounded.
std::string Quote(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, kQuoteBytes)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > kQuoteBytes) out += "...";
  return out;
}

// qmp-spec 2.5: {"event": NAME, "data": {...}, "timestamp": {...}}; "data"
// is optional. SHUTDOWN's data.reason is a ShutdownCause (QEMU >= 4.0).
Result<QmpEvent> ParseEvent(const json& message) {
  const json& name = message.at("event");
  if (!IsQmpName(name)) return Error("an event whose name is not a QMP name");
  QmpEvent event{name.get<std::string>(), json::object(), ""};
  if (auto data = message.find("data"); data != message.end()) {
    if (!data->is_object()) return Error("event " + event.name + ": \"data\" is not an object");
    event.data = *data;
  }
  if (event.name == "SHUTDOWN") {
    if (auto reason = event.data.find("reason"); reason != event.data.end()) {
      if (!IsQmpName(*reason)) return Error("SHUTDOWN: \"reason\" is not a QMP name");
      event.reason = reason->get<std::string>();
    }
  }
  return event;
}

// A reply (qmp-spec 2.4) or the greeting (2.2): exactly one of "return",
// "error", "QMP"; an error carries {"class", "desc"}, the greeting an object.
Result<void> CheckNonEvent(const json& message) {
  int kinds = static_cast<int>(message.contains("return")) +
              static_cast<int>(message.contains("error")) +
              static_cast<int>(message.contains("QMP"));
  if (kinds != 1) return Error("a message that is no event, reply or greeting");
  if (auto error = message.find("error"); error != message.end()) {
    auto desc = error->is_object() ? error->find("desc") : error->end();
    if (desc == error->end() || !desc->is_string()) {
      return Error("an error reply without a \"desc\" text");
    }
  }
  if (auto greeting = message.find("QMP"); greeting != message.end()) {
    if (!greeting->is_object()) return Error("a greeting whose \"QMP\" is not an object");
  }
  if (auto id = message.find("id"); id != message.end() && !id->is_string()) {
    return Error("a reply whose \"id\" is not one of ours");
  }
  return Ok();
}

Error ErrorReply(std::string_view command, const json& error) {
  std::string text = "QEMU refused " + std::string(command) + ": ";
  if (auto kind = error.find("class"); kind != error.end() && IsQmpName(*kind)) {
    text += kind->get<std::string>() + ": ";
  }
  return Error(text + Quote(error.at("desc").get_ref<const std::string&>()));
}

Result<UniqueFd> ConnectWithRetry(const std::string& path, QmpClient::Deadline deadline) {
  for (;;) {
    auto fd = ConnectUnix(path, SocketBlocking::kNonBlocking);
    if (fd.ok()) return fd;
    int err = fd.error().errno_value();
    // QEMU binds the socket early in start-up: until then it is missing or
    // refuses; a full backlog (EAGAIN) clears as QEMU accepts.
    if (err != ENOENT && err != ECONNREFUSED && err != EAGAIN) return std::move(fd).error();
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return std::move(fd)
          .error()
          .WithContext("QEMU did not open its QMP socket in time")
          .WithKind(ErrorKind::kTimeout);
    }
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(kConnectRetry, deadline - now));
  }
}

}  // namespace

Result<QmpClient> QmpClient::AdoptNegotiated(UniqueFd connection) {
  const int flags = ::fcntl(connection.get(), F_GETFL);
  if (flags < 0 || ::fcntl(connection.get(), F_SETFL, flags | O_NONBLOCK) < 0)
    return Error::FromErrno("QMP: make the connection non-blocking");
  return QmpClient(std::move(connection));
}

Result<QmpClient> QmpClient::Connect(const std::string& socket_path, Deadline deadline) {
  std::string context = "QMP " + socket_path;
  UniqueFd fd = VK_TRY_CTX(ConnectWithRetry(socket_path, deadline), context);
  QmpClient client(std::move(fd));
  VK_TRY_CTX(client.Handshake(deadline), context);
  return client;
}

// qmp-spec 2.2 and 4: the server greets, then accepts nothing but
// qmp_capabilities (no capabilities asked for: "oob" is not needed).
Result<void> QmpClient::Handshake(Deadline deadline) {
  auto greeting = VK_TRY_CTX(NextMessage(deadline), "read the greeting");
  if (!greeting) return Error("QEMU closed the connection before its greeting");
  if (!greeting->contains("QMP")) return Fail(Error("the first message is not the QMP greeting"));
  json reply = VK_TRY(Execute("qmp_capabilities", deadline));
  if (!reply.is_object()) return Fail(Error("qmp_capabilities: the reply is not an object"));
  return Ok();
}

Result<std::vector<QmpEvent>> QmpClient::ReadEvents() {
  if (broken_) return Error("QMP: " + *broken_);
  for (int round = 0; round < kReadsPerCall && !closed_; ++round) {
    ReadOutcome outcome = VK_TRY(ReadSome());
    // Decode as we go: buffer_ never holds more than one chunk past a line.
    for (;;) {
      auto line = VK_TRY(TakeLine());
      if (!line) break;
      // Replies are dropped here: one only comes unasked when its command
      // gave up waiting (a timeout).
      (void)VK_TRY(Decode(*line));
    }
    if (outcome != ReadOutcome::kData) break;
  }
  return std::exchange(pending_, {});
}

Result<std::string> QmpClient::QueryStatus(Deadline deadline) {
  json reply = VK_TRY(Execute("query-status", deadline));
  auto status = reply.is_object() ? reply.find("status") : reply.end();
  if (status == reply.end() || !IsQmpName(*status)) {
    return Fail(Error("query-status: the reply has no \"status\" name"));
  }
  return status->get<std::string>();
}

Result<void> QmpClient::Cont(Deadline deadline) {
  (void)VK_TRY(Execute("cont", deadline));
  return Ok();
}

Result<void> QmpClient::Quit(Deadline deadline) {
  auto reply = Execute("quit", deadline);
  // QEMU may exit before its reply leaves: that too is a quit.
  if (!reply.ok() && closed_ && !broken_) return Ok();
  if (!reply.ok()) return std::move(reply).error();
  return Ok();
}

Result<nlohmann::json> QmpClient::Execute(std::string_view command, Deadline deadline) {
  std::string what(command);
  if (broken_) return Error("QMP: " + *broken_);
  if (closed_) return Error("QMP " + what + ": QEMU closed the connection");
  // The id ties the reply to this command (qmp-spec 2.3): a reply that comes
  // after its command timed out must not answer the next one.
  std::string id = "vk-" + std::to_string(next_id_++);
  std::string request = json{{"execute", what}, {"id", id}}.dump() + "\r\n";
  auto bytes = std::span(reinterpret_cast<const uint8_t*>(request.data()), request.size());
  VK_TRY_CTX(WriteAllBefore(fd_.get(), bytes, deadline), "QMP: send " + what);
  for (;;) {
    auto message = VK_TRY_CTX(NextMessage(deadline), "QMP " + what);
    if (!message) return Error("QMP " + what + ": QEMU closed the connection before replying");
    if (message->contains("QMP")) return Fail(Error("a second greeting"));
    // Without an id QEMU could not read the command at all: it is our reply.
    if (auto reply_id = message->find("id"); reply_id != message->end() && *reply_id != id) {
      continue;
    }
    if (auto error = message->find("error"); error != message->end()) {
      return ErrorReply(what, *error);
    }
    return message->at("return");
  }
}

Result<QmpClient::ReadOutcome> QmpClient::ReadSome() {
  char chunk[kReadChunk];
  for (;;) {
    ssize_t n = ::read(fd_.get(), chunk, sizeof(chunk));
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return ReadOutcome::kData;
    }
    // A peer that dies with unread data resets instead of closing.
    if (n == 0 || errno == ECONNRESET) {
      closed_ = true;
      return ReadOutcome::kEof;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadOutcome::kWouldBlock;
    return Error::FromErrno("QMP: read");
  }
}

Result<std::optional<std::string>> QmpClient::TakeLine() {
  size_t end = buffer_.find('\n');
  size_t length = end == std::string::npos ? buffer_.size() : end;
  if (length > kMaxLineBytes) {
    return Fail(Error("a line longer than " + std::to_string(kMaxLineBytes) + " bytes"));
  }
  if (end == std::string::npos) return std::optional<std::string>();
  std::string line = buffer_.substr(0, end);
  buffer_.erase(0, end + 1);
  if (!line.empty() && line.back() == '\r') line.pop_back();  // qmp-spec 2.1: CRLF
  return std::optional<std::string>(std::move(line));
}

Result<std::optional<nlohmann::json>> QmpClient::NextMessage(Deadline deadline) {
  for (;;) {
    if (broken_) return Error("QMP: " + *broken_);
    auto line = VK_TRY(TakeLine());
    if (line) {
      auto message = VK_TRY(Decode(*line));
      if (message) return message;
      continue;  // an event (queued) or a blank line
    }
    if (closed_) return std::optional<json>();
    VK_TRY(WaitForFd(fd_.get(), POLLIN, deadline));
    (void)VK_TRY(ReadSome());
  }
}

Result<std::optional<nlohmann::json>> QmpClient::Decode(const std::string& line) {
  if (line.find_first_not_of(" \t") == std::string::npos) return std::optional<json>();
  try {
    json message = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (message.is_discarded()) return Fail(Error("a line that is not JSON: " + Quote(line)));
    if (!message.is_object())
      return Fail(Error("a line that is not a JSON object: " + Quote(line)));
    if (message.contains("event")) {
      auto event = ParseEvent(message);
      if (!event.ok()) return Fail(std::move(event).error());
      pending_.push_back(std::move(*event));
      return std::optional<json>();
    }
    auto checked = CheckNonEvent(message);
    if (!checked.ok()) return Fail(std::move(checked).error());
    return std::optional<json>(std::move(message));
  } catch (const json::exception& e) {  // a shape check above missed a case
    return Fail(Error(std::string("unexpected JSON: ") + e.what()));
  }
}

Error QmpClient::Fail(Error error) {
  broken_ = error.message();
  return Error("QMP: " + error.message());
}

}  // namespace vk
