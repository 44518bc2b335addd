// The virtctl codec (proto/virtctl.h). Requests come from any process in a
// fleet VM, so every field is checked for type and range and unknown fields
// are refused by name; nlohmann-json's exceptions stay inside this file.
#include "proto/virtctl.h"

#include <array>
#include <climits>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "base/names.h"

namespace vk::proto {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;  // encodes in the documented field order

constexpr std::array<std::pair<VirtctlOp, std::string_view>, 7> kOps = {{
    {VirtctlOp::kList, "list"},
    {VirtctlOp::kStatus, "status"},
    {VirtctlOp::kStart, "start"},
    {VirtctlOp::kStop, "stop"},
    {VirtctlOp::kRestart, "restart"},
    {VirtctlOp::kLogs, "logs"},
    {VirtctlOp::kDown, "down"},
}};

// Bounds the peer-chosen text an error message repeats (a field name may be
// as long as the line).
constexpr size_t kMaxQuoted = 64;

std::string Quote(std::string_view text) {
  if (text.size() <= kMaxQuoted) return "\"" + std::string(text) + "\"";
  return "\"" + std::string(text.substr(0, kMaxQuoted)) + "...\"";
}

Error Bad(std::string_view field, std::string_view what) {
  return Error(Quote(field) + " " + std::string(what));
}

Error UnknownField(std::string_view field) { return Error("unknown field " + Quote(field)); }

std::string Dump(const ordered_json& j) {
  // A unit's output is bytes, not necessarily UTF-8: replace, never throw.
  return j.dump(-1, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

// One object from one line: the size bound first, then the JSON text.
Result<json> ParseLine(std::string_view line) {
  if (line.size() > kMaxVirtctlLine) {
    return Error("line of " + std::to_string(line.size()) + " bytes is over the limit of " +
                 std::to_string(kMaxVirtctlLine));
  }
  if (line.ends_with('\n')) line.remove_suffix(1);
  if (line.find('\n') != std::string_view::npos) return Error("more than one line");
  json root;
  try {
    root = json::parse(line);
  } catch (const json::exception& e) {
    std::string what = e.what();  // "[json.exception.parse_error.101] parse error at ..."
    size_t tag_end = what.find("] ");
    return Error("not valid JSON: " +
                 (tag_end == std::string::npos ? what : what.substr(tag_end + 2)));
  }
  if (!root.is_object()) return Error("not a JSON object");
  return root;
}

Result<std::string> GetString(const json& value, std::string_view field) {
  if (!value.is_string()) return Bad(field, "must be a string");
  return value.get<std::string>();
}

Result<bool> GetBool(const json& value, std::string_view field) {
  if (!value.is_boolean()) return Bad(field, "must be true or false");
  return value.get<bool>();
}

Result<int> GetInt(const json& value, std::string_view field, int min) {
  std::optional<int64_t> number;
  if (value.is_number_unsigned()) {
    if (value.get<uint64_t>() <= INT_MAX) number = value.get<int64_t>();
  } else if (value.is_number_integer()) {
    number = value.get<int64_t>();
  }
  if (!number || *number < min || *number > INT_MAX) {
    return Bad(field,
               "must be an integer from " + std::to_string(min) + " to " + std::to_string(INT_MAX));
  }
  return static_cast<int>(*number);
}

Result<uint64_t> GetUint(const json& value, std::string_view field) {
  if (!value.is_number_unsigned()) return Bad(field, "must be an integer >= 0");
  return value.get<uint64_t>();
}

Result<std::vector<std::string>> GetStrings(const json& value, std::string_view field) {
  if (!value.is_array()) return Bad(field, "must be an array of strings");
  std::vector<std::string> strings;
  for (const json& item : value) strings.push_back(VK_TRY(GetString(item, field)));
  return strings;
}

Result<VirtctlOp> GetOp(const json& value) {
  std::string name = VK_TRY(GetString(value, "op"));
  std::optional<VirtctlOp> op = VirtctlOpFromName(name);
  if (!op) return Error("unknown op " + Quote(name));
  return *op;
}

// The fields that depend on the op: the unit (a VM name, since the host
// builds names and paths from it) and follow.
Result<void> CheckOpFields(const VirtctlRequest& request) {
  std::string op(VirtctlOpName(request.op));
  if (!VirtctlOpTakesUnit(request.op)) {
    if (!request.unit.empty()) return Error(op + " takes no \"unit\"");
  } else if (request.unit.empty()) {
    return Error(op + " needs a \"unit\"");
  } else {
    VK_TRY_CTX(CheckName(request.unit, NameKind::kVm), "\"unit\"");
  }
  if (request.follow && request.op != VirtctlOp::kLogs) return Error("\"follow\" is only for logs");
  return Ok();
}

Result<VirtctlRequest> RequestFromJson(const json& root) {
  VirtctlRequest request;
  bool has_op = false;
  for (const auto& [key, value] : root.items()) {
    if (key == "op") {
      request.op = VK_TRY(GetOp(value));
      has_op = true;
    } else if (key == "unit") {
      request.unit = VK_TRY(GetString(value, key));
    } else if (key == "follow") {
      request.follow = VK_TRY(GetBool(value, key));
    } else {
      return UnknownField(key);
    }
  }
  if (!has_op) return Error("missing \"op\"");
  VK_TRY(CheckOpFields(request));
  return request;
}

constexpr std::array<std::pair<std::string_view, std::string UnitInfo::*>, 5> kUnitStrings = {{
    {"name", &UnitInfo::name},
    {"state", &UnitInfo::state},
    {"health", &UnitInfo::health},
    {"address", &UnitInfo::address},
    {"vm", &UnitInfo::vm},
}};

// One field of a unit entry; fields not listed are a newer host's columns,
// ignored (the one place unknown fields are).
Result<void> SetUnitField(UnitInfo& unit, const std::string& key, const json& value) {
  for (const auto& [name, member] : kUnitStrings) {
    if (key == name) {
      unit.*member = VK_TRY(GetString(value, key));
      return Ok();
    }
  }
  if (key == "ports") unit.ports = VK_TRY(GetStrings(value, key));
  if (key == "restarts") unit.restarts = VK_TRY(GetInt(value, key, 0));
  if (key == "exit_code") {
    unit.exit_code = std::nullopt;
    if (!value.is_null()) unit.exit_code = VK_TRY(GetInt(value, key, INT_MIN));
  }
  if (key == "uptime_seconds") unit.uptime_seconds = VK_TRY(GetUint(value, key));
  if (key == "dev") unit.dev = VK_TRY(GetBool(value, key));
  return Ok();
}

Result<std::vector<UnitInfo>> UnitsFromJson(const json& value) {
  if (!value.is_array()) return Bad("units", "must be an array");
  std::vector<UnitInfo> units;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string where = "units[" + std::to_string(i) + "]";
    if (!value[i].is_object()) return Bad(where, "must be an object");
    UnitInfo& unit = units.emplace_back();
    for (const auto& [key, field] : value[i].items()) {
      VK_TRY_CTX(SetUnitField(unit, key, field), where);
    }
  }
  return units;
}

Result<VirtctlReply> ReplyFromJson(const json& root) {
  VirtctlReply reply;
  bool has_ok = false;
  for (const auto& [key, value] : root.items()) {
    if (key == "ok") {
      reply.ok = VK_TRY(GetBool(value, key));
      has_ok = true;
    } else if (key == "error") {
      reply.error = VK_TRY(GetString(value, key));
    } else if (key == "message") {
      reply.message = VK_TRY(GetString(value, key));
    } else if (key == "units") {
      reply.units = VK_TRY(UnitsFromJson(value));
    } else {
      return UnknownField(key);
    }
  }
  if (!has_ok) return Error("missing \"ok\"");
  return reply;
}

Result<LogChunk> ChunkFromJson(const json& root) {
  LogChunk chunk;
  for (const auto& [key, value] : root.items()) {
    if (key != "log") return UnknownField(key);
    chunk.text = VK_TRY(GetString(value, key));
  }
  return chunk;
}

ordered_json UnitJson(const UnitInfo& unit) {
  ordered_json j = ordered_json::object();
  for (const auto& [name, member] : kUnitStrings) j[std::string(name)] = unit.*member;
  j["ports"] = unit.ports;
  j["restarts"] = unit.restarts;
  if (unit.exit_code) j["exit_code"] = *unit.exit_code;
  j["uptime_seconds"] = unit.uptime_seconds;
  j["dev"] = unit.dev;
  return j;
}

}  // namespace

std::string_view VirtctlOpName(VirtctlOp op) {
  for (const auto& [known, name] : kOps) {
    if (known == op) return name;
  }
  return "list";  // unreachable: kOps names every op
}

std::optional<VirtctlOp> VirtctlOpFromName(std::string_view name) {
  for (const auto& [op, op_name] : kOps) {
    if (op_name == name) return op;
  }
  return std::nullopt;
}

bool VirtctlOpTakesUnit(VirtctlOp op) { return op != VirtctlOp::kList && op != VirtctlOp::kDown; }

std::string EncodeVirtctlRequest(const VirtctlRequest& request) {
  ordered_json j = ordered_json::object();
  j["op"] = std::string(VirtctlOpName(request.op));
  if (!request.unit.empty()) j["unit"] = request.unit;
  if (request.follow) j["follow"] = true;
  return Dump(j);
}

Result<VirtctlRequest> DecodeVirtctlRequest(std::string_view line) {
  json root = VK_TRY_CTX(ParseLine(line), "virtctl request");
  return RequestFromJson(root).Context("virtctl request");
}

std::string EncodeVirtctlReply(const VirtctlReply& reply) {
  ordered_json j = ordered_json::object();
  j["ok"] = reply.ok;
  if (!reply.ok || !reply.error.empty()) j["error"] = reply.error;
  if (reply.ok || !reply.message.empty()) j["message"] = reply.message;
  if (reply.ok || !reply.units.empty()) {
    j["units"] = ordered_json::array();
    for (const UnitInfo& unit : reply.units) j["units"].push_back(UnitJson(unit));
  }
  return Dump(j);
}

std::string EncodeLogChunk(std::string_view bytes) {
  ordered_json j = ordered_json::object();
  j["log"] = std::string(bytes);
  return Dump(j);
}

Result<VirtctlServerLine> DecodeVirtctlServerLine(std::string_view line) {
  json root = VK_TRY_CTX(ParseLine(line), "virtctl reply");
  if (root.contains("log")) {
    return VirtctlServerLine(VK_TRY_CTX(ChunkFromJson(root), "virtctl log line"));
  }
  return VirtctlServerLine(VK_TRY_CTX(ReplyFromJson(root), "virtctl reply"));
}

}  // namespace vk::proto
