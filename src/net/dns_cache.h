// DnsCache: upstream responses kept for as long as their TTLs allow
// (RFC 1035 §7.4), negative answers per RFC 2308 §5. Keyed by (name, type,
// class); a hit is re-stamped with the asker's id and question spelling and
// has its TTLs reduced by the time spent in the cache.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "net/dns_message.h"
#include "net/frame_clock.h"

namespace vk::net {

struct DnsCacheOptions {
  std::chrono::seconds max_ttl{3600};          // positive answers
  std::chrono::seconds max_negative_ttl{300};  // NXDOMAIN / NODATA
  // Bounds memory a guest can pin by asking for many distinct names.
  size_t max_entries = 4096;
};

class DnsCache {
 public:
  explicit DnsCache(DnsCacheOptions options, Clock clock);

  // Stores a response to `question` if it is cacheable: NOERROR with answers
  // (TTL = min over answers), or NXDOMAIN/NODATA with an SOA in authority
  // (TTL = min(SOA TTL, SOA MINIMUM)). Other responses are not stored.
  void Store(const DnsQuestion& question, Bytes response, const DnsMessage& parsed);

  // A cached response re-stamped for `query`, or nullopt on a miss/expiry.
  std::optional<std::vector<uint8_t>> Lookup(Bytes query, const DnsMessage& parsed);

  size_t size() const { return entries_.size(); }

 private:
  using Key = std::tuple<std::string, uint16_t, uint16_t>;
  struct Entry {
    std::vector<uint8_t> response;
    std::vector<size_t> ttl_offsets;
    size_t question_end = 0;
    TimePoint stored;
    TimePoint expires;
  };

  static std::optional<uint32_t> CacheTtl(Bytes response, const DnsMessage& parsed);
  void Evict(TimePoint now);

  DnsCacheOptions options_;
  Clock clock_;
  std::map<Key, Entry> entries_;
};

}  // namespace vk::net
