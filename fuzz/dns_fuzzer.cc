// Fuzzes DNS message parsing (compression pointers, record counts, SOA) and
// the server: the input is a guest query, then also fed back as an upstream
// response to a query for the same question, exercising cache and hooks.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "net/dns_message.h"
#include "net/dns_server.h"

namespace {

class EchoUpstream : public vk::net::DnsUpstream {
 public:
  void Query(std::vector<uint8_t> query, Callback done) override {
    pending.push_back(std::move(done));
    (void)query;
  }
  std::deque<Callback> pending;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vk::net;
  std::span<const uint8_t> input(data, size);
  auto parsed = ParseDnsMessage(input);
  if (parsed.ok()) {
    for (const auto& record : parsed->authority) {
      if (record.type == kDnsTypeSoa) (void)SoaMinimum(input, record);
    }
  }
  EchoUpstream upstream;
  DnsServerConfig config;
  config.host_ip = 0xc0a87f01;
  DnsServer server(config, &upstream);
  server.RegisterName("web", 0xc0a87f05);
  server.on_answer = [](std::string_view, const std::vector<uint32_t>&, uint32_t) {};
  size_t replies = 0;
  auto reply = [&replies](std::vector<uint8_t> response) { replies += response.size(); };
  server.HandleQuery(input, reply);
  // Answer the forwarded query with the input itself (flipped to a response).
  std::vector<uint8_t> response(data, data + size);
  if (response.size() > 2) response[2] |= 0x80;
  while (!upstream.pending.empty()) {
    auto done = std::move(upstream.pending.front());
    upstream.pending.pop_front();
    done(response);
  }
  server.HandleQuery(input, reply);  // possibly a cache hit now
  return 0;
}
