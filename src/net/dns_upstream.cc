#include "net/dns_upstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/random.h>
#include <sys/timerfd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/log.h"
#include "net/dns_message.h"
#include "net/frame_bytes.h"

namespace vk::net {
namespace {

bool SameAddress(const sockaddr_storage& a, const ResolverAddress& b) {
  if (a.ss_family != b.address.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b.address);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
  const auto& y = reinterpret_cast<const sockaddr_in6&>(b.address);
  return x.sin6_port == y.sin6_port && std::memcmp(&x.sin6_addr, &y.sin6_addr, 16) == 0;
}

// The response must answer our question (RFC 5452 §9.1), compared
// case-insensitively since resolvers may echo another spelling.
bool SameQuestion(const std::vector<uint8_t>& query, const std::vector<uint8_t>& response) {
  auto parsed = ParseDnsMessage(query);
  if (!parsed.ok() || response.size() < parsed->question_end) return false;
  return std::equal(query.begin() + kDnsHeaderSize, query.begin() + parsed->question_end,
                    response.begin() + kDnsHeaderSize, [](uint8_t a, uint8_t b) {
                      auto lower = [](uint8_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; };
                      return lower(a) == lower(b);
                    });
}

// A full 16-bit id from the kernel's CSPRNG. getrandom(2) only blocks before
// the pool is first seeded, early in boot; failing otherwise means no
// getrandom at all (Linux < 3.17), which the rest of virtkit needs too.
uint16_t RandomId() {
  uint16_t id = 0;
  while (::getrandom(&id, sizeof(id), 0) != sizeof(id)) {
    if (errno == EINTR) continue;
    std::fprintf(stderr, "dns upstream: getrandom: %s\n", std::strerror(errno));
    std::abort();
  }
  return id;
}

}  // namespace

std::vector<ResolverAddress> ParseResolvConf(std::string_view text) {
  std::vector<ResolverAddress> servers;
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string keyword, address;
    if (!(words >> keyword >> address) || keyword != "nameserver") continue;
    address = address.substr(0, address.find('%'));  // scoped IPv6: scope unsupported
    ResolverAddress server;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&server.address);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&server.address);
    if (inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(kDnsPort);
      server.length = sizeof(sockaddr_in);
    } else if (inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(kDnsPort);
      server.length = sizeof(sockaddr_in6);
    } else {
      continue;
    }
    servers.push_back(server);
  }
  return servers;
}

Result<std::unique_ptr<UdpDnsUpstream>> UdpDnsUpstream::Create(EventLoop& loop,
                                                               std::vector<ResolverAddress> servers,
                                                               UdpDnsUpstreamOptions options) {
  if (servers.empty()) return Error("dns upstream: no resolvers configured");
  std::unique_ptr<UdpDnsUpstream> upstream(new UdpDnsUpstream(loop, std::move(servers), options));
  VK_TRY_CTX(upstream->Open(), "dns upstream");
  return upstream;
}

Result<std::unique_ptr<UdpDnsUpstream>> UdpDnsUpstream::FromResolvConf(
    EventLoop& loop, const std::string& path, UdpDnsUpstreamOptions options) {
  std::ifstream file(path);
  if (!file) return Error::FromErrno("dns upstream: open " + path);
  std::stringstream text;
  text << file.rdbuf();
  auto servers = ParseResolvConf(text.str());
  if (servers.empty()) return Error("dns upstream: no nameserver lines in " + path);
  return Create(loop, std::move(servers), options);
}

Result<void> UdpDnsUpstream::Open() {
  timer_.Reset(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!timer_) return Error::FromErrno("timerfd_create");
  return loop_.Add(timer_.get(), EPOLLIN, [this](uint32_t) { OnTimer(); });
}

UdpDnsUpstream::~UdpDnsUpstream() {
  *alive_ = false;
  for (auto& [key, pending] : pending_) CloseSocket(pending);
  if (timer_) loop_.Remove(timer_.get());
}

void UdpDnsUpstream::Query(std::vector<uint8_t> query, Callback done) {
  if (query.size() < kDnsHeaderSize || pending_.size() >= options_.max_pending) {
    // Defer: callers must not be re-entered from inside Query.
    loop_.Post([alive = std::weak_ptr<bool>(alive_), done = std::move(done)] {
      if (!alive.expired()) done(Error("dns upstream: query refused"));
    });
    return;
  }
  Pending pending{std::move(query), 0, {}, std::move(done), options_.attempts, next_server_++, {}};
  pending.guest_id = Load16(pending.wire, 0);
  uint64_t key = next_key_++;
  auto [it, inserted] = pending_.emplace(key, std::move(pending));
  Send(key, it->second);
  ArmTimer();
}

// One try: a new socket (new source port) and a new id. A failure (no
// route, out of fds) is left to the timeout, which retries.
void UdpDnsUpstream::Send(uint64_t key, Pending& pending) {
  --pending.tries_left;
  pending.deadline = std::chrono::steady_clock::now() + options_.timeout;
  CloseSocket(pending);
  Store16(pending.wire, 0, RandomId());
  auto socket = ConnectedSocket(key, ServerOf(pending));
  if (!socket.ok()) {
    log::Debug("dns upstream: {}", socket.error().message());
    return;
  }
  pending.socket = std::move(*socket);
  (void)!::send(pending.socket.get(), pending.wire.data(), pending.wire.size(), MSG_NOSIGNAL);
}

// connect(2) binds a random ephemeral port and makes the kernel drop
// datagrams from anyone but the server.
Result<UniqueFd> UdpDnsUpstream::ConnectedSocket(uint64_t key, const ResolverAddress& server) {
  UniqueFd fd(::socket(server.address.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return Error::FromErrno("socket");
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&server.address), server.length) != 0) {
    return Error::FromErrno("connect");
  }
  VK_TRY(loop_.Add(fd.get(), EPOLLIN, [this, key](uint32_t) { OnReadable(key); }));
  return fd;
}

void UdpDnsUpstream::CloseSocket(Pending& pending) {
  if (!pending.socket) return;
  loop_.Remove(pending.socket.get());
  pending.socket.Reset();
}

void UdpDnsUpstream::OnReadable(uint64_t key) {
  for (int i = 0; i < 16; ++i) {  // bounded: a flood must not starve the loop
    auto it = pending_.find(key);
    if (it == pending_.end() || !it->second.socket) return;
    std::vector<uint8_t> buffer(65536);
    sockaddr_storage from{};
    socklen_t from_length = sizeof(from);
    ssize_t n = recvfrom(it->second.socket.get(), buffer.data(), buffer.size(), 0,
                         reinterpret_cast<sockaddr*>(&from), &from_length);
    if (n < 0) return;  // EAGAIN, or an ICMP error surfaced as ECONNREFUSED
    buffer.resize(static_cast<size_t>(n));
    if (!Accepts(it->second, from, buffer)) continue;
    Store16(buffer, 0, it->second.guest_id);
    return Finish(key, std::move(buffer));
  }
}

// Only the server of this try may answer, with this try's id, about our
// question.
bool UdpDnsUpstream::Accepts(const Pending& pending, const sockaddr_storage& from,
                             const std::vector<uint8_t>& response) const {
  return response.size() >= kDnsHeaderSize && Load16(response, 0) == Load16(pending.wire, 0) &&
         SameAddress(from, ServerOf(pending)) && SameQuestion(pending.wire, response);
}

void UdpDnsUpstream::OnTimer() {
  uint64_t expirations;
  (void)!read(timer_.get(), &expirations, sizeof(expirations));
  auto now = std::chrono::steady_clock::now();
  std::vector<uint64_t> expired;
  for (auto& [key, pending] : pending_) {
    if (pending.deadline > now) continue;
    if (pending.tries_left > 0) {
      ++pending.server;  // RFC 1035 §7.2: try the next server
      Send(key, pending);
    } else {
      expired.push_back(key);
    }
  }
  std::weak_ptr<bool> alive = alive_;  // a callback may destroy us
  for (uint64_t key : expired) {
    if (alive.expired()) return;
    Finish(key, Error("dns upstream: no response from resolvers"));
  }
  if (!alive.expired()) ArmTimer();
}

void UdpDnsUpstream::ArmTimer() {
  itimerspec spec{};
  if (!pending_.empty()) {
    auto earliest = std::min_element(pending_.begin(), pending_.end(), [](auto& a, auto& b) {
                      return a.second.deadline < b.second.deadline;
                    })->second.deadline;
    auto wait = std::max<std::chrono::nanoseconds>(earliest - std::chrono::steady_clock::now(),
                                                   std::chrono::milliseconds(1));
    spec.it_value.tv_sec = static_cast<time_t>(wait.count() / 1'000'000'000);
    spec.it_value.tv_nsec = static_cast<long>(wait.count() % 1'000'000'000);
  }
  timerfd_settime(timer_.get(), 0, &spec, nullptr);
}

void UdpDnsUpstream::Finish(uint64_t key, Result<std::vector<uint8_t>> result) {
  auto it = pending_.find(key);
  if (it == pending_.end()) return;
  Callback done = std::move(it->second.done);
  CloseSocket(it->second);
  pending_.erase(it);
  std::weak_ptr<bool> alive = alive_;
  done(std::move(result));  // may destroy `this`; only the token is touched after
  if (!alive.expired()) ArmTimer();
}

}  // namespace vk::net
