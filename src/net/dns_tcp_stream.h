// DNS over TCP (RFC 1035 §4.2.2, RFC 7766): each message on the stream is
// prefixed by its length as a 2-byte big-endian integer, and a client may
// send several queries back to back (pipelining) and get the answers in any
// order (RFC 7766 §7: it matches them by id).
//
// DnsTcpStream cuts the guest's byte stream into messages and
// FrameDnsTcpMessage prefixes an answer for the way back. DnsTcpServer
// serves such streams with the gateway's DnsServer (same egress policy,
// cache and .lan names as UDP); SlirpEgress hands it the guest's
// connections to gateway:53 through a unix socket.
//
// The stream is guest-controlled. The decoder buffers at most kCapacity
// bytes (one largest message plus its prefix), so a guest that trickles a
// message or sends many at once costs a bounded amount of memory: callers
// read no more than Room() bytes before taking the complete messages out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/event_loop.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "net/dns_server.h"
#include "net/frame_bytes.h"

namespace vk::net {

class DnsTcpStream {
 public:
  // A 2-byte prefix and the longest message it can announce.
  static constexpr size_t kCapacity = 2 + kDnsMaxTcpMessage;

  // How many more bytes Append takes now (none once failed).
  size_t Room() const { return failed_ ? 0 : kCapacity - buffered(); }
  // Copies up to Room() bytes of `data`; returns how many it took.
  size_t Append(Bytes data);

  // The next complete message without its prefix, or nullopt while it is
  // still incomplete. A zero length is an error (no DNS message is empty,
  // so the peer is not speaking DNS); the stream stays failed after one.
  Result<std::optional<std::vector<uint8_t>>> Next();

  // Whether Next has something to return (a message or the zero-length error).
  bool HasMessage() const;
  // Bytes received but not yet returned by Next.
  size_t buffered() const { return buffer_.size() - start_; }
  bool failed() const { return failed_; }

 private:
  std::vector<uint8_t> buffer_;
  size_t start_ = 0;  // bytes of buffer_ already returned
  bool failed_ = false;
};

// `message` prefixed by its length; nullopt if it exceeds 65535 bytes.
std::optional<std::vector<uint8_t>> FrameDnsTcpMessage(Bytes message);

// Abuse bounds for what guests' DNS connections can make the gateway hold.
// Worst case per connection: the decoder's kCapacity plus max_output_bytes
// plus max_in_flight answers of up to 64 KiB that were already under way.
struct DnsTcpServerOptions {
  // Open connections; the oldest is closed to admit a new one (clients
  // reconnect, RFC 7766 §6.2.3), so idle connections cannot lock others out.
  size_t max_connections = 32;
  // Queries of one connection awaiting their answer; reading pauses beyond.
  size_t max_in_flight = 8;
  // Answers not yet taken by the peer; reading pauses beyond.
  size_t max_output_bytes = 64 << 10;
};

class DnsTcpServer {
 public:
  // `loop` runs `dns`; both (not owned) must outlive the server. Everything,
  // including the destructor, runs on the loop's thread.
  DnsTcpServer(EventLoop& loop, DnsServer& dns, DnsTcpServerOptions options = {});
  ~DnsTcpServer();
  DnsTcpServer(const DnsTcpServer&) = delete;
  DnsTcpServer& operator=(const DnsTcpServer&) = delete;

  // Listens on a fresh unix socket in a private (0700) directory under
  // $XDG_RUNTIME_DIR or /tmp and serves whatever connects; returns its
  // path. Both are removed by the destructor.
  Result<std::string> ListenUnix();
  // Serves one connected stream socket.
  Result<void> Serve(UniqueFd connection);

  size_t connections() const { return connections_.size(); }

 private:
  class Connection;
  void AcceptAll();
  void Forget(const Connection* connection);

  EventLoop& loop_;
  DnsServer& dns_;
  DnsTcpServerOptions options_;
  UniqueFd listener_;
  std::string dir_;   // private directory holding the socket; empty if none
  std::string path_;  // the listening socket
  std::list<std::shared_ptr<Connection>> connections_;  // oldest first
};

}  // namespace vk::net
