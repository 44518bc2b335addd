#include "net/dns_message.h"

#include <fmt/format.h>

namespace vk::net {
namespace {

constexpr size_t kMaxNameWire = 255;  // RFC 1035 §3.1
constexpr int kMaxJumps = 64;         // belt and braces; backward-only already ends loops

void AppendLabel(Bytes label, std::string* name) {
  if (!name->empty()) name->push_back('.');
  for (uint8_t c : label) {
    if (c >= 'A' && c <= 'Z') c = static_cast<uint8_t>(c - 'A' + 'a');
    if (c == '.' || c == '\\') {
      name->push_back('\\');
      name->push_back(static_cast<char>(c));
    } else if (c <= 0x20 || c >= 0x7f) {
      *name += fmt::format("\\{:03d}", c);
    } else {
      name->push_back(static_cast<char>(c));
    }
  }
}

Result<DnsRecord> ReadRecord(Bytes message, size_t* pos) {
  DnsRecord record;
  record.name = VK_TRY(ReadDnsName(message, pos));
  ByteReader reader(message, *pos);
  record.type = reader.U16();
  record.klass = reader.U16();
  record.ttl_offset = reader.pos();
  uint32_t ttl = reader.U32();
  record.ttl = (ttl & 0x80000000) != 0 ? 0 : ttl;  // RFC 2181 §8: top bit set means 0
  uint16_t length = reader.U16();
  record.rdata_offset = reader.pos();
  reader.Take(length, &record.rdata);
  if (!reader.ok()) return Error("dns: truncated record");
  *pos = reader.pos();
  return record;
}

Result<void> ReadRecords(Bytes message, size_t* pos, uint16_t count, std::vector<DnsRecord>* out) {
  for (uint16_t i = 0; i < count; ++i) out->push_back(VK_TRY(ReadRecord(message, pos)));
  return Ok();
}

}  // namespace

Result<std::string> ReadDnsName(Bytes message, size_t* pos) {
  std::string name;
  size_t at = *pos;
  size_t sequence_start = at;  // pointers must land before this
  size_t wire_length = 0;
  int jumps = 0;
  bool jumped = false;
  while (true) {
    if (at >= message.size()) return Error("dns: name runs past the message");
    uint8_t length = message[at];
    if ((length & 0xc0) == 0xc0) {
      if (at + 1 >= message.size()) return Error("dns: truncated pointer");
      size_t target = static_cast<size_t>(length & 0x3f) << 8 | message[at + 1];
      if (target >= sequence_start || ++jumps > kMaxJumps) return Error("dns: bad pointer");
      if (!jumped) *pos = at + 2;
      jumped = true;
      at = sequence_start = target;
      continue;
    }
    if ((length & 0xc0) != 0) return Error("dns: unknown label type");
    wire_length += length + 1;
    if (wire_length > kMaxNameWire) return Error("dns: name longer than 255 bytes");
    if (length == 0) break;
    if (message.size() - at - 1 < length) return Error("dns: label runs past the message");
    AppendLabel(message.subspan(at + 1, length), &name);
    at += 1 + length;
  }
  if (!jumped) *pos = at + 1;
  return name;
}

Result<DnsMessage> ParseDnsMessage(Bytes message) {
  ByteReader reader(message);
  DnsMessage parsed;
  DnsHeader& h = parsed.header;
  h.id = reader.U16();
  h.flags = reader.U16();
  h.qdcount = reader.U16();
  h.ancount = reader.U16();
  h.nscount = reader.U16();
  h.arcount = reader.U16();
  if (!reader.ok()) return Error("dns: truncated header");
  size_t pos = kDnsHeaderSize;
  for (uint16_t i = 0; i < h.qdcount; ++i) {
    DnsQuestion question;
    question.name = VK_TRY(ReadDnsName(message, &pos));
    ByteReader fields(message, pos);
    question.type = fields.U16();
    question.klass = fields.U16();
    if (!fields.ok()) return Error("dns: truncated question");
    pos = fields.pos();
    parsed.questions.push_back(std::move(question));
  }
  parsed.question_end = pos;
  VK_TRY(ReadRecords(message, &pos, h.ancount, &parsed.answers));
  VK_TRY(ReadRecords(message, &pos, h.nscount, &parsed.authority));
  VK_TRY(ReadRecords(message, &pos, h.arcount, &parsed.additional));
  return parsed;
}

Result<uint32_t> SoaMinimum(Bytes message, const DnsRecord& soa) {
  size_t pos = soa.rdata_offset;
  VK_TRY(ReadDnsName(message, &pos));  // MNAME
  VK_TRY(ReadDnsName(message, &pos));  // RNAME
  if (pos + 20 > soa.rdata_offset + soa.rdata.size()) return Error("dns: short SOA");
  ByteReader reader(message, pos + 16);  // serial, refresh, retry, expire
  uint32_t minimum = reader.U32();
  if (!reader.ok()) return Error("dns: short SOA");
  return minimum;
}

std::vector<uint8_t> BuildDnsResponse(Bytes query, const DnsMessage& parsed, uint8_t rcode,
                                      const std::vector<uint32_t>& a_records, uint32_t ttl,
                                      bool authoritative) {
  std::vector<uint8_t> out;
  ByteWriter writer(out);
  uint16_t flags = kDnsFlagQr | kDnsFlagRa | (parsed.header.flags & kDnsFlagRd) | rcode;
  if (authoritative) flags |= kDnsFlagAa;
  writer.U16(parsed.header.id);
  writer.U16(flags);
  writer.U16(static_cast<uint16_t>(parsed.questions.size()));
  writer.U16(static_cast<uint16_t>(a_records.size()));
  writer.U16(0);
  writer.U16(0);
  writer.Append(query.subspan(kDnsHeaderSize, parsed.question_end - kDnsHeaderSize));
  for (uint32_t ip : a_records) {
    writer.U16(0xc000 | kDnsHeaderSize);  // the first question's name
    writer.U16(kDnsTypeA);
    writer.U16(kDnsClassIn);
    writer.U32(ttl);
    writer.U16(4);
    writer.U32(ip);
  }
  return out;
}

}  // namespace vk::net
