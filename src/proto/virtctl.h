// The virtctl port (docs/protocol.md, "virtctl port (vsock 4446)"): inside a
// fleet VM, `virtctl` (vk-agent under that name) asks the fleet controller on
// the host to list, inspect, start, stop, restart or tail the fleet's units.
// The guest connects to the host (CID 2, VMADDR_CID_HOST) on vsock port
// kVirtctlPort; the VMM hands the connection to the controller's unix socket.
// (The guest's own port 4446, the TCP relay of `vk forward`, is another port:
// guest and host ports are separate namespaces.)
//
// Newline-delimited JSON, one request per connection:
//   guest -> host  one request line   {"op":"stop","unit":"redis"}
//                                      {"op":"logs","unit":"redis","follow":true}
//                                      {"op":"list"}
//   host -> guest  for logs: any number of chunk lines {"log":"text"}, then
//                  one final reply line  {"ok":true,"message":"redis stopped","units":[...]}
//                                        {"ok":false,"error":"refused: ..."}
// then the host closes the connection.
//
// Every line ends with "\n" (the decoders also take a line without it) and is
// at most kMaxVirtctlLine bytes, newline included. A field a decoder does not
// know is an error naming it: new behaviour comes as new ops, which an older
// peer refuses by name, never as fields it would silently drop. The one
// exception is a unit entry in a reply: the decoder ignores fields it does not
// know there, so a newer host can add columns to `list`.
//
// Request fields: "op" (required; VirtctlOpName), "unit" (required for
// status/start/stop/restart/logs and a valid VM name, base/names.h; absent
// for list/down), "follow" (bool, only true with logs). Reply fields: "ok"
// (required bool), "error", "message" (strings), "units" (array of unit
// objects: "name", "state", "health", "address", "vm" strings, "ports" array
// of strings, "restarts" int >= 0, "exit_code" int or null (absent: none yet),
// "uptime_seconds" uint64, "dev" bool; each optional, defaults as below).
//
// Shared by the host (decodes requests from an untrusted guest, encodes
// replies) and vk-agent (the reverse). The decoders never throw: nlohmann-json
// stays inside virtctl.cc. Its parser and destructor are iterative (3.10+),
// so deep nesting within the line bound costs memory, never stack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/result.h"

namespace vk::proto {

inline constexpr uint32_t kVirtctlPort = 4446;
// Abuse bound: one line (request or reply) is at most this long, newline
// included; longer lines are an error. It bounds what either side buffers
// for a line (a guest user may run virtctl; the host is one process for the
// whole fleet).
inline constexpr size_t kMaxVirtctlLine = 256 * 1024;
// A log chunk of at most this many bytes always encodes within
// kMaxVirtctlLine: JSON escaping grows a byte to at most 6 ("\u001f"), an
// invalid UTF-8 byte to 3 (U+FFFD). Senders split longer output.
inline constexpr size_t kMaxLogChunk = 32 * 1024;

enum class VirtctlOp { kList, kStatus, kStart, kStop, kRestart, kLogs, kDown };
// "list", "status", "start", "stop", "restart", "logs", "down".
std::string_view VirtctlOpName(VirtctlOp op);
// The op of that name, if any.
std::optional<VirtctlOp> VirtctlOpFromName(std::string_view name);
// Whether the op acts on one unit (all but list and down).
bool VirtctlOpTakesUnit(VirtctlOp op);

struct VirtctlRequest {
  VirtctlOp op = VirtctlOp::kList;
  std::string unit;     // required for status/start/stop/restart/logs; empty for list/down
  bool follow = false;  // logs -f
  bool operator==(const VirtctlRequest&) const = default;
};

struct UnitInfo {
  std::string name;
  std::string state;    // "stopped", "starting", "running", "exited", "restarting", "failed"
  std::string health;   // "", "starting", "healthy", "unhealthy"
  std::string address;  // LAN IPv4, "" when none
  std::string vm;       // the VM's name on the host
  std::vector<std::string> ports;  // "127.0.0.1:6380->6379/tcp"
  int restarts = 0;
  std::optional<int> exit_code;  // last exit
  uint64_t uptime_seconds = 0;
  bool dev = false;
  bool operator==(const UnitInfo&) const = default;
};

struct VirtctlReply {
  bool ok = true;
  std::string error;            // !ok: why (e.g. "refused: only the dev VM may control units")
  std::string message;          // ok: a human line ("redis stopped"), may be empty
  std::vector<UnitInfo> units;  // list: all; status: one
  bool operator==(const VirtctlReply&) const = default;
};

// A log chunk streamed before the final reply of a logs request.
struct LogChunk {
  std::string text;
  bool operator==(const LogChunk&) const = default;
};
using VirtctlServerLine = std::variant<LogChunk, VirtctlReply>;

// One JSON object and "\n". Strings that are not valid UTF-8 are encoded
// with U+FFFD in place of the bad bytes; encoding never throws.
std::string EncodeVirtctlRequest(const VirtctlRequest& request);
// Refuses what is not one JSON object, unknown ops and fields, a missing or
// superfluous unit, a unit that fails CheckName(…, NameKind::kVm), and
// oversized lines, with a message naming the problem; never throws.
Result<VirtctlRequest> DecodeVirtctlRequest(std::string_view line);

// {"ok":true,"message":...,"units":[...]} or {"ok":false,"error":...}.
std::string EncodeVirtctlReply(const VirtctlReply& reply);
// {"log":"..."}: `bytes` may be anything (a unit's raw output); invalid UTF-8
// is replaced with U+FFFD, never thrown on.
std::string EncodeLogChunk(std::string_view bytes);
// A log chunk or the final reply; errors as for DecodeVirtctlRequest, except
// that unknown fields of a unit entry are ignored.
Result<VirtctlServerLine> DecodeVirtctlServerLine(std::string_view line);

}  // namespace vk::proto
