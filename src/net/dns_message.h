// DNS messages (RFC 1035 §4): header, questions and resource records, with
// name compression (§4.1.4) followed safely: a pointer must point strictly
// before the label sequence it interrupts, which makes loops impossible, and
// jumps and name length are capped (255 bytes, §3.1).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"
#include "net/frame_bytes.h"

namespace vk::net {

inline constexpr uint16_t kDnsPort = 53;
inline constexpr size_t kDnsHeaderSize = 12;
inline constexpr uint16_t kDnsTypeA = 1;
inline constexpr uint16_t kDnsTypeCname = 5;
inline constexpr uint16_t kDnsTypeSoa = 6;
inline constexpr uint16_t kDnsTypeAaaa = 28;
inline constexpr uint16_t kDnsClassIn = 1;

enum DnsRcode : uint8_t {
  kDnsNoError = 0,
  kDnsFormErr = 1,
  kDnsServFail = 2,
  kDnsNxDomain = 3,
  kDnsNotImp = 4,
  kDnsRefused = 5,
};

// Header flag bits (RFC 1035 §4.1.1).
inline constexpr uint16_t kDnsFlagQr = 0x8000;
inline constexpr uint16_t kDnsFlagAa = 0x0400;
inline constexpr uint16_t kDnsFlagTc = 0x0200;
inline constexpr uint16_t kDnsFlagRd = 0x0100;
inline constexpr uint16_t kDnsFlagRa = 0x0080;

struct DnsHeader {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;

  uint8_t opcode() const { return (flags >> 11) & 0x0f; }
  uint8_t rcode() const { return flags & 0x0f; }
  bool response() const { return (flags & kDnsFlagQr) != 0; }
};

struct DnsQuestion {
  // Lowercased presentation form without the trailing dot; '.', '\\' and
  // non-printable bytes inside labels are escaped (\. \\ \DDD, RFC 4343 §2.1)
  // so a policy matching names cannot be fooled by a dot inside a label.
  std::string name;
  uint16_t type = 0;
  uint16_t klass = 0;
};

struct DnsRecord {
  std::string name;
  uint16_t type = 0;
  uint16_t klass = 0;
  uint32_t ttl = 0;
  size_t ttl_offset = 0;  // where the TTL sits in the message (cache aging)
  size_t rdata_offset = 0;
  Bytes rdata;
};

struct DnsMessage {
  DnsHeader header;
  std::vector<DnsQuestion> questions;
  size_t question_end = 0;  // offset just past the question section
  std::vector<DnsRecord> answers;
  std::vector<DnsRecord> authority;
  std::vector<DnsRecord> additional;
};

// Reads a (possibly compressed) name at `*pos`, advancing `*pos` past it.
Result<std::string> ReadDnsName(Bytes message, size_t* pos);

// Parses the whole message; bounds record counts by the message size.
Result<DnsMessage> ParseDnsMessage(Bytes message);

// Reads the MINIMUM field of an SOA record (RFC 1035 §3.3.13).
Result<uint32_t> SoaMinimum(Bytes message, const DnsRecord& soa);

// A response echoing the query's id, RD bit and question (copied verbatim
// from the query), with one A record per address.
std::vector<uint8_t> BuildDnsResponse(Bytes query, const DnsMessage& parsed, uint8_t rcode,
                                      const std::vector<uint32_t>& a_records, uint32_t ttl,
                                      bool authoritative);

}  // namespace vk::net
