#include "net/dns_tcp_stream.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>

#include "base/log.h"
#include "base/unix_socket.h"

namespace vk::net {
namespace {

// One read's worth: small enough to keep the stack frame modest, large
// enough for a burst of pipelined queries.
constexpr size_t kReadChunk = 16 << 10;

// The directory for our socket: sun_path holds only 108 bytes, so a long
// $XDG_RUNTIME_DIR falls back to /tmp.
std::string SocketBase() {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (runtime != nullptr && *runtime == '/' && std::strlen(runtime) < 64) return runtime;
  return "/tmp";
}

}  // namespace

size_t DnsTcpStream::Append(Bytes data) {
  if (failed_) return 0;
  // Drop what Next already returned, so the bound counts only live bytes.
  if (start_ > 0) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(start_));
    start_ = 0;
  }
  size_t take = std::min(data.size(), Room());
  buffer_.insert(buffer_.end(), data.begin(), data.begin() + static_cast<ptrdiff_t>(take));
  return take;
}

bool DnsTcpStream::HasMessage() const {
  if (failed_ || buffered() < 2) return false;
  size_t length = Load16(Bytes(buffer_).subspan(start_), 0);
  return length == 0 || buffered() >= 2 + length;
}

Result<std::optional<std::vector<uint8_t>>> DnsTcpStream::Next() {
  if (failed_) return Error("dns over tcp: stream failed");
  Bytes pending = Bytes(buffer_).subspan(start_);
  if (pending.size() < 2) return std::optional<std::vector<uint8_t>>();
  size_t length = Load16(pending, 0);
  if (length == 0) {
    failed_ = true;
    return Error("dns over tcp: zero-length message");
  }
  if (pending.size() < 2 + length) return std::optional<std::vector<uint8_t>>();
  Bytes message = pending.subspan(2, length);
  start_ += 2 + length;
  return std::optional<std::vector<uint8_t>>(std::in_place, message.begin(), message.end());
}

std::optional<std::vector<uint8_t>> FrameDnsTcpMessage(Bytes message) {
  if (message.size() > kDnsMaxTcpMessage) return std::nullopt;
  std::vector<uint8_t> out;
  out.reserve(2 + message.size());
  ByteWriter writer(out);
  writer.U16(static_cast<uint16_t>(message.size()));
  writer.Append(message);
  return out;
}

// One guest connection. The server owns it; the loop callback and the DNS
// replies hold weak references, so an answer arriving after the close is
// dropped, and a callback keeps the connection alive while it runs.
//
// DnsServer may answer inside HandleQuery or later from its upstream's
// callback; either way the answer is only queued here and the real work
// (writing, reading on, closing) happens in Service, run from the loop, so
// nothing re-enters DnsServer from inside one of its callbacks.
class DnsTcpServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(DnsTcpServer& server, UniqueFd fd) : server_(server), fd_(std::move(fd)) {}

  Result<void> Start() {
    std::weak_ptr<Connection> weak = weak_from_this();
    interest_ = EPOLLIN;
    return server_.loop_.Add(fd_.get(), interest_, [weak](uint32_t events) {
      if (auto self = weak.lock()) self->OnEvents(events);
    });
  }

  // Stops serving; the server drops its reference last, which may end *this.
  void Close() {
    if (!fd_.valid()) return;
    server_.loop_.Remove(fd_.get());
    fd_.Reset();
    server_.Forget(this);
  }

 private:
  // Counts a query as in flight for as long as DnsServer holds its reply
  // callback: DnsServer drops some queries without answering (too short,
  // or a response), and this sees those end too.
  struct InFlight {
    std::weak_ptr<Connection> connection;
    ~InFlight() {
      if (auto self = connection.lock()) self->OnQueryDone();
    }
  };

  void OnEvents(uint32_t events) {
    if ((events & (EPOLLERR | EPOLLHUP)) != 0) return Close();  // the peer is gone
    if ((events & EPOLLIN) != 0 && CanRead()) ReadOnce();
    Service();
  }

  bool UnderLimits() const {
    return in_flight_ < server_.options_.max_in_flight &&
           Pending() < server_.options_.max_output_bytes;
  }
  bool CanRead() const { return !eof_ && stream_.Room() > 0 && UnderLimits(); }
  size_t Pending() const { return out_.size() - out_sent_; }

  void ReadOnce() {
    uint8_t buf[kReadChunk];
    ssize_t got = ::recv(fd_.get(), buf, std::min(sizeof(buf), stream_.Room()), 0);
    if (got > 0) {
      stream_.Append(Bytes(buf, static_cast<size_t>(got)));
    } else if (got == 0) {
      eof_ = true;  // half-closed: answer what was asked, then close
    } else if (errno != EAGAIN && errno != EINTR) {
      Close();
    }
  }

  // Queries what is complete, sends what is answered, and closes once the
  // peer is done and owed nothing; then waits for what it still needs.
  void Service() {
    service_posted_ = false;
    busy_ = true;
    TakeQueries();
    busy_ = false;
    if (!fd_.valid()) return;
    Flush();
    if (!fd_.valid()) return;
    if (eof_ && in_flight_ == 0 && Pending() == 0 && !stream_.HasMessage()) return Close();
    // Queries already read do not make the fd readable: come back for them.
    if (stream_.HasMessage() && UnderLimits()) ScheduleService();
    uint32_t interest =
        (CanRead() ? uint32_t{EPOLLIN} : 0) | (Pending() > 0 ? uint32_t{EPOLLOUT} : 0);
    if (interest != interest_ && server_.loop_.Modify(fd_.get(), interest).ok()) {
      interest_ = interest;
    }
  }

  void TakeQueries() {
    while (fd_.valid() && UnderLimits()) {
      auto next = stream_.Next();
      if (!next.ok()) {
        log::Debug("dns over tcp: {}", next.error().message());
        return Close();
      }
      if (!next->has_value()) return;
      Ask(**next);
    }
  }

  void Ask(const std::vector<uint8_t>& query) {
    ++in_flight_;
    auto token = std::make_shared<InFlight>();
    token->connection = weak_from_this();
    server_.dns_.HandleQuery(
        query,
        [token](std::vector<uint8_t> response) {
          if (auto self = token->connection.lock()) self->OnAnswer(response);
        },
        DnsTransport::kTcp);
  }

  void OnAnswer(Bytes response) {
    auto framed = FrameDnsTcpMessage(response);
    if (!framed || !fd_.valid()) return;
    out_.insert(out_.end(), framed->begin(), framed->end());
    ScheduleService();
  }

  void OnQueryDone() {
    --in_flight_;
    ScheduleService();
  }

  void ScheduleService() {
    if (busy_ || service_posted_ || !fd_.valid()) return;
    service_posted_ = true;
    server_.loop_.Post([weak = weak_from_this()] {
      if (auto self = weak.lock(); self && self->fd_.valid()) self->Service();
    });
  }

  void Flush() {
    while (Pending() > 0) {
      ssize_t sent = ::send(fd_.get(), out_.data() + out_sent_, Pending(), MSG_NOSIGNAL);
      if (sent < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        return Close();
      }
      out_sent_ += static_cast<size_t>(sent);
    }
    out_.clear();
    out_sent_ = 0;
  }

  DnsTcpServer& server_;
  UniqueFd fd_;
  DnsTcpStream stream_;
  std::vector<uint8_t> out_;  // framed answers; out_sent_ of them already sent
  size_t out_sent_ = 0;
  size_t in_flight_ = 0;
  uint32_t interest_ = 0;
  bool eof_ = false;
  bool busy_ = false;  // inside TakeQueries: Service runs again right after
  bool service_posted_ = false;
};

DnsTcpServer::DnsTcpServer(EventLoop& loop, DnsServer& dns, DnsTcpServerOptions options)
    : loop_(loop), dns_(dns), options_(options) {}

DnsTcpServer::~DnsTcpServer() {
  auto connections = std::move(connections_);
  connections_.clear();
  for (const auto& connection : connections) connection->Close();
  if (listener_.valid()) loop_.Remove(listener_.get());
  listener_.Reset();
  if (!path_.empty()) ::unlink(path_.c_str());
  if (!dir_.empty()) ::rmdir(dir_.c_str());
}

Result<std::string> DnsTcpServer::ListenUnix() {
  if (listener_.valid()) return Error("dns over tcp: already listening");
  std::string dir = SocketBase() + "/vk-dns-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) return Error::FromErrno("dns over tcp: mkdtemp " + dir);
  dir_ = dir;  // mkdtemp made it 0700: only our user can connect
  path_ = dir_ + "/dns.sock";
  // A deep backlog: libslirp connects with a blocking connect() on its own
  // thread, which waits while the backlog is full.
  UniqueFd fd =
      VK_TRY_CTX(vk::ListenUnix(path_, SOMAXCONN, SocketBlocking::kNonBlocking), "dns over tcp");
  VK_TRY(loop_.Add(fd.get(), EPOLLIN, [this](uint32_t) { AcceptAll(); }));
  listener_ = std::move(fd);
  return path_;
}

void DnsTcpServer::AcceptAll() {
  while (true) {
    UniqueFd fd(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno != EAGAIN && errno != EINTR) {
        log::Warn("dns over tcp: accept: {}", std::strerror(errno));
      }
      return;
    }
    if (auto served = Serve(std::move(fd)); !served.ok()) {
      log::Warn("dns over tcp: {}", served.error().message());
    }
  }
}

Result<void> DnsTcpServer::Serve(UniqueFd connection) {
  if (!connection) return Error("dns over tcp: invalid connection");
  int flags = ::fcntl(connection.get(), F_GETFL);
  if (flags < 0 || ::fcntl(connection.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return Error::FromErrno("dns over tcp: set non-blocking");
  }
  if (connections_.size() >= options_.max_connections) {
    std::shared_ptr<Connection> oldest = connections_.front();  // outlives its Close
    oldest->Close();
  }
  auto served = std::make_shared<Connection>(*this, std::move(connection));
  VK_TRY(served->Start());
  connections_.push_back(std::move(served));
  return Ok();
}

void DnsTcpServer::Forget(const Connection* connection) {
  std::erase_if(connections_, [connection](const auto& c) { return c.get() == connection; });
}

}  // namespace vk::net
