#include "net/dns_server.h"

#include <algorithm>

#include "net/dhcp_leases.h"

namespace vk::net {
namespace {

// A bare error reply: header only, used when the question cannot be echoed.
std::vector<uint8_t> HeaderOnly(Bytes query, uint8_t rcode) {
  std::vector<uint8_t> out(kDnsHeaderSize, 0);
  out[0] = query[0];
  out[1] = query[1];
  Store16(out, 2,
          static_cast<uint16_t>(kDnsFlagQr | kDnsFlagRa | (Load16(query, 2) & kDnsFlagRd) | rcode));
  return out;
}

}  // namespace

DnsServer::DnsServer(DnsServerConfig config, DnsUpstream* upstream, Clock clock)
    : config_(std::move(config)), upstream_(upstream), cache_(config_.cache, std::move(clock)) {}

DnsServer::~DnsServer() = default;

void DnsServer::RegisterName(std::string_view name, uint32_t ip) {
  if (auto label = NormalizeHostLabel(name)) names_[*label] = ip;
}

void DnsServer::UnregisterName(std::string_view name) {
  if (auto label = NormalizeHostLabel(name)) names_.erase(*label);
}

std::optional<uint32_t> DnsServer::LookupName(std::string_view name) const {
  if (name == "host") return config_.host_ip;
  if (auto it = names_.find(name); it != names_.end()) return it->second;
  if (lease_names) return lease_names(name);
  return std::nullopt;
}

bool DnsServer::IsLocal(std::string_view name) const {
  const std::string& domain = config_.domain;
  if (name == domain) return true;
  return name.size() > domain.size() && name.ends_with(domain) &&
         name[name.size() - domain.size() - 1] == '.';
}

void DnsServer::HandleQuery(Bytes query, Reply reply, DnsTransport transport) {
  if (query.size() < kDnsHeaderSize || (Load16(query, 2) & kDnsFlagQr) != 0) return;
  auto parsed = ParseDnsMessage(query);
  if (!parsed.ok() || parsed->questions.size() != 1) {
    return reply(HeaderOnly(query, kDnsFormErr));
  }
  if (parsed->header.opcode() != 0) return reply(HeaderOnly(query, kDnsNotImp));
  const DnsQuestion& question = parsed->questions.front();
  if (IsLocal(question.name)) return reply(AnswerLocal(query, *parsed));
  if (name_filter && !name_filter(question.name)) {
    return reply(BuildDnsResponse(query, *parsed, kDnsNxDomain, {}, 0, false));
  }
  if (auto cached = cache_.Lookup(query, *parsed)) {
    return reply(Fit(std::move(*cached), transport));
  }
  Forward(query, *parsed, std::move(reply), transport);
}

std::vector<uint8_t> DnsServer::AnswerLocal(Bytes query, const DnsMessage& parsed) const {
  const DnsQuestion& question = parsed.questions.front();
  std::string_view name = question.name;
  std::optional<uint32_t> ip;
  if (name.size() > config_.domain.size()) {
    ip = LookupName(name.substr(0, name.size() - config_.domain.size() - 1));
  }
  if (!ip) return BuildDnsResponse(query, parsed, kDnsNxDomain, {}, 0, true);
  // The name exists: A gets the address, AAAA and other types an empty
  // NOERROR ("NODATA", RFC 2308 §2.2) so resolvers fall back to A quickly.
  bool is_a = question.type == kDnsTypeA && question.klass == kDnsClassIn;
  std::vector<uint32_t> answers;
  if (is_a) answers.push_back(*ip);
  return BuildDnsResponse(query, parsed, kDnsNoError, answers, config_.local_ttl, true);
}

void DnsServer::Forward(Bytes query, const DnsMessage& parsed, Reply reply,
                        DnsTransport transport) {
  std::vector<uint8_t> failure = BuildDnsResponse(query, parsed, kDnsServFail, {}, 0, false);
  if (upstream_ == nullptr || in_flight_ >= config_.max_in_flight) return reply(failure);
  ++in_flight_;
  upstream_->Query(
      std::vector<uint8_t>(query.begin(), query.end()),
      [this, alive = std::weak_ptr<bool>(alive_), question = parsed.questions.front(),
       failure = std::move(failure), reply = std::move(reply), transport](auto response) mutable {
        if (alive.expired()) return;  // the server went away first
        --in_flight_;
        OnUpstream(question, std::move(response), std::move(failure), std::move(reply), transport);
      });
}

void DnsServer::OnUpstream(const DnsQuestion& question, Result<std::vector<uint8_t>> response,
                           std::vector<uint8_t> failure, Reply reply, DnsTransport transport) {
  if (!response.ok()) return reply(std::move(failure));
  auto parsed = ParseDnsMessage(*response);
  if (!parsed.ok() || !parsed->header.response() || parsed->questions.size() != 1 ||
      parsed->questions.front().name != question.name ||
      parsed->questions.front().type != question.type) {
    return reply(std::move(failure));
  }
  if (on_answer && parsed->header.rcode() == kDnsNoError) {
    std::vector<uint32_t> ips;
    uint32_t ttl = UINT32_MAX;
    for (const DnsRecord& record : parsed->answers) {
      if (record.type != kDnsTypeA || record.klass != kDnsClassIn || record.rdata.size() != 4) {
        continue;
      }
      ips.push_back(ByteReader(record.rdata).U32());
      ttl = std::min(ttl, record.ttl);
    }
    if (!ips.empty()) on_answer(question.name, ips, ttl);
  }
  cache_.Store(question, *response, *parsed);
  reply(Fit(std::move(*response), transport));
}

std::vector<uint8_t> DnsServer::Fit(std::vector<uint8_t> response, DnsTransport transport) const {
  size_t limit = transport == DnsTransport::kTcp ? kDnsMaxTcpMessage : config_.max_response;
  if (response.size() <= limit) return response;
  auto parsed = ParseDnsMessage(response);
  size_t keep = parsed.ok() ? parsed->question_end : kDnsHeaderSize;
  if (keep > limit) keep = kDnsHeaderSize;
  response.resize(keep);
  Store16(response, 2, Load16(response, 2) | kDnsFlagTc);
  Store16(response, 6, 0);  // ancount, nscount, arcount: sections dropped
  Store16(response, 8, 0);
  Store16(response, 10, 0);
  if (keep == kDnsHeaderSize) Store16(response, 4, 0);
  return response;
}

}  // namespace vk::net
