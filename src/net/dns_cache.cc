#include "net/dns_cache.h"

#include <algorithm>
#include <cstring>

namespace vk::net {

DnsCache::DnsCache(DnsCacheOptions options, Clock clock)
    : options_(options), clock_(std::move(clock)) {}

std::optional<uint32_t> DnsCache::CacheTtl(Bytes response, const DnsMessage& parsed) {
  uint8_t rcode = parsed.header.rcode();
  if (rcode == kDnsNoError && !parsed.answers.empty()) {
    uint32_t ttl = UINT32_MAX;
    for (const DnsRecord& record : parsed.answers) ttl = std::min(ttl, record.ttl);
    return ttl;
  }
  if (rcode != kDnsNxDomain && rcode != kDnsNoError) return std::nullopt;  // SERVFAIL etc.
  // RFC 2308 §5: negative answers live min(SOA TTL, SOA MINIMUM); without
  // an SOA they are not cached at all.
  for (const DnsRecord& record : parsed.authority) {
    if (record.type != kDnsTypeSoa) continue;
    auto minimum = SoaMinimum(response, record);
    if (minimum.ok()) return std::min(record.ttl, *minimum);
  }
  return std::nullopt;
}

void DnsCache::Store(const DnsQuestion& question, Bytes response, const DnsMessage& parsed) {
  auto ttl = CacheTtl(response, parsed);
  if (!ttl || *ttl == 0 || (parsed.header.flags & kDnsFlagTc) != 0) return;
  bool negative = parsed.answers.empty();
  auto cap = negative ? options_.max_negative_ttl : options_.max_ttl;
  auto lifetime = std::min<std::chrono::seconds>(std::chrono::seconds(*ttl), cap);
  TimePoint now = clock_();
  if (entries_.size() >= options_.max_entries) Evict(now);
  Entry entry{{response.begin(), response.end()}, {}, parsed.question_end, now, now + lifetime};
  for (const auto* section : {&parsed.answers, &parsed.authority, &parsed.additional}) {
    for (const DnsRecord& record : *section) {
      if (record.type != 41) entry.ttl_offsets.push_back(record.ttl_offset);  // not OPT
    }
  }
  entries_[Key{question.name, question.type, question.klass}] = std::move(entry);
}

std::optional<std::vector<uint8_t>> DnsCache::Lookup(Bytes query, const DnsMessage& parsed) {
  const DnsQuestion& question = parsed.questions.front();
  auto it = entries_.find(Key{question.name, question.type, question.klass});
  if (it == entries_.end()) return std::nullopt;
  TimePoint now = clock_();
  if (now >= it->second.expires) {
    entries_.erase(it);
    return std::nullopt;
  }
  // The same name may be spelled with another wire length (a compressed
  // question); then the stored question cannot be overwritten in place.
  if (it->second.question_end != parsed.question_end) return std::nullopt;
  std::vector<uint8_t> response = it->second.response;
  auto age = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::seconds>(now - it->second.stored).count());
  for (size_t offset : it->second.ttl_offsets) {
    uint32_t ttl = ByteReader(response, offset).U32();
    Store32(response, offset, ttl > age ? ttl - age : 0);
  }
  // Copy the asker's spelling (0x20 case randomisation) and id over ours.
  std::memcpy(response.data() + kDnsHeaderSize, query.data() + kDnsHeaderSize,
              parsed.question_end - kDnsHeaderSize);
  Store16(response, 0, parsed.header.id);
  return response;
}

void DnsCache::Evict(TimePoint now) {
  std::erase_if(entries_, [now](const auto& item) { return item.second.expires <= now; });
  if (entries_.size() < options_.max_entries) return;
  // Still full of live entries: drop the one closest to expiry.
  auto victim = std::min_element(
      entries_.begin(), entries_.end(),
      [](const auto& a, const auto& b) { return a.second.expires < b.second.expires; });
  entries_.erase(victim);
}

}  // namespace vk::net
