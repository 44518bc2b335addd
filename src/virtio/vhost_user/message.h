// vhost-user wire format (QEMU docs/interop/vhost-user.rst, "Message
// specification"): every message is a 12-byte header {request, flags, size}
// followed by `size` payload bytes, with file descriptors passed as
// SCM_RIGHTS ancillary data on the header's first byte. All fields are
// little-endian (host order on x86_64).
//
// The front end (the VMM) is trusted to run the guest but its messages are
// still parsed as untrusted input: `size` is checked against what the
// request's payload type allows before any payload byte is read, the fd
// count against what the request carries, and every fd is owned by a
// UniqueFd the moment it arrives, so a malformed message is refused with an
// Error and leaks nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vk::virtio::vhost_user {

// Requests from the front end ("Front-end message types"). Only the codes
// we handle or must recognize are named; any other u32 is carried through
// as an unknown request.
enum class Request : uint32_t {
  kGetFeatures = 1,
  kSetFeatures = 2,
  kSetOwner = 3,
  kResetOwner = 4,
  kSetMemTable = 5,
  kSetLogBase = 6,
  kSetLogFd = 7,
  kSetVringNum = 8,
  kSetVringAddr = 9,
  kSetVringBase = 10,
  kGetVringBase = 11,
  kSetVringKick = 12,
  kSetVringCall = 13,
  kSetVringErr = 14,
  kGetProtocolFeatures = 15,
  kSetProtocolFeatures = 16,
  kGetQueueNum = 17,
  kSetVringEnable = 18,
  kGetConfig = 24,
  kSetConfig = 25,
  kGetInflightFd = 31,
  kResetDevice = 34,
  kGetMaxMemSlots = 36,
  kGetStatus = 40,
};

// Header flags ("Header"): bits 0-1 the protocol version (always 1).
inline constexpr uint32_t kFlagVersion = 0x1;
inline constexpr uint32_t kFlagVersionMask = 0x3;
inline constexpr uint32_t kFlagReply = 0x4;
inline constexpr uint32_t kFlagNeedReply = 0x8;

inline constexpr size_t kHeaderBytes = 12;
// "Memory regions description": VHOST_MEMORY_BASELINE_NREGIONS. Without
// VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS (not offered) a table holds at
// most this many regions, one fd each; it also bounds the fds of any message.
inline constexpr size_t kMaxRegions = 8;
inline constexpr size_t kMaxFds = kMaxRegions;
// "Device configuration space": VHOST_USER_MAX_CONFIG_SIZE.
inline constexpr uint32_t kMaxConfigBytes = 256;
// Payload bound for requests we do not parse (their payload is read and
// dropped to stay in step): larger than any payload the spec defines, so a
// front end cannot make us buffer an arbitrary `size`.
inline constexpr uint32_t kMaxUnknownPayloadBytes = 4096;

// The u64 of SET_VRING_KICK/CALL/ERR: bits 0-7 the ring, bit 8 "no fd".
inline constexpr uint64_t kVringIndexMask = 0xff;
inline constexpr uint64_t kVringNoFd = 1ull << 8;

struct Header {
  uint32_t request = 0;
  uint32_t flags = 0;
  uint32_t size = 0;
};
static_assert(sizeof(Header) == kHeaderBytes);

// "Ring state description".
struct VringState {
  uint32_t index = 0;
  uint32_t num = 0;
};
static_assert(sizeof(VringState) == 8);

// "Vring address description": addresses are front-end virtual addresses
// (translated through the memory table), except `log`, a guest address.
struct VringAddress {
  uint32_t index = 0;
  uint32_t flags = 0;  // bit 0 VHOST_VRING_F_LOG (dirty logging; not offered)
  uint64_t descriptor = 0;
  uint64_t used = 0;
  uint64_t available = 0;
  uint64_t log = 0;
};
static_assert(sizeof(VringAddress) == 40);

// "Memory region description".
struct MemoryRegion {
  uint64_t guest_address = 0;
  uint64_t size = 0;
  uint64_t user_address = 0;  // where the front end mapped it
  uint64_t mmap_offset = 0;   // of the region in its fd
};
static_assert(sizeof(MemoryRegion) == 32);

// "Device configuration space": header {offset, size, flags} + size bytes.
struct ConfigSpace {
  uint32_t offset = 0;
  uint32_t flags = 0;
  std::vector<uint8_t> data;  // size bytes (GET_CONFIG: a buffer to fill)
};
inline constexpr size_t kConfigHeaderBytes = 12;

// A request we do not parse: its payload was bounded and dropped.
struct UnknownPayload {};

using Payload = std::variant<std::monostate, uint64_t, VringState, VringAddress,
                             std::vector<MemoryRegion>, ConfigSpace, UnknownPayload>;

struct Message {
  uint32_t request = 0;  // a Request, or an unknown code
  uint32_t flags = 0;
  Payload payload;
  std::vector<UniqueFd> fds;

  bool need_reply() const { return flags & kFlagNeedReply; }
  bool is(Request r) const { return request == static_cast<uint32_t>(r); }
};

// A reply: the request's code, the REPLY flag and this payload.
struct Reply {
  uint32_t request = 0;
  std::vector<uint8_t> payload;
};

// Checks a header (version, no REPLY flag on a request, `size` within the
// request's bound) so the caller knows how many payload bytes to read.
Result<Header> ParseHeader(std::span<const uint8_t> header);
// The pure parser: a whole message from its header, payload and fds. The
// payload must be exactly what the request's type defines, and the fds
// exactly what the request carries (none, one per memory region, or one for
// a vring fd unless its "no fd" bit is set).
Result<Message> ParseMessage(std::span<const uint8_t> header, std::span<const uint8_t> payload,
                             std::vector<UniqueFd> fds);

// Reads one message from a connected unix stream socket (blocking; the
// caller sets SO_RCVTIMEO so a peer stalled mid-message cannot hold us).
// std::nullopt when the peer closed the connection between messages.
Result<std::optional<Message>> ReadMessage(int socket);

// Sends one message (a reply, or a request in tests) with optional fds.
Result<void> SendMessage(int socket, const Header& header, std::span<const uint8_t> payload,
                         std::span<const int> fds = {});
Result<void> WriteReply(int socket, const Reply& reply);

// Requests whose definition has a reply of its own (vhost-user.rst, the
// "reply" of each request): the back end answers them whatever the flags.
bool HasOwnReply(uint32_t request);

// Payload encoders (replies, and requests built by tests and the fuzzer).
std::vector<uint8_t> EncodeU64(uint64_t value);
std::vector<uint8_t> EncodeVringState(const VringState& state);
std::vector<uint8_t> EncodeVringAddress(const VringAddress& address);
std::vector<uint8_t> EncodeMemoryTable(std::span<const MemoryRegion> regions);
std::vector<uint8_t> EncodeConfig(const ConfigSpace& config);

}  // namespace vk::virtio::vhost_user
