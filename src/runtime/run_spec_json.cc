// RunSpec <-> JSON, the wire format of `vk supervise` (docs/protocol.md).
// The input comes from another process (the library's caller may be any
// program), so every field is checked for type and size, unknown fields are
// refused by name, and nlohmann-json's exceptions stay inside this file.
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "runtime/run_spec.h"

namespace vk {
namespace {

using nlohmann::json;

constexpr int kVersion = 1;
// Each bound names what it keeps a hostile or broken spec from costing.
constexpr size_t kMaxDepth = 8;              // nesting: the parser's and destructor's stack
constexpr size_t kMaxShortString = 4096;     // names, paths (PATH_MAX), users, platforms
constexpr size_t kMaxLongString = 64 << 10;  // one argv/env entry, the firewall rules text
constexpr size_t kMaxListItems = 4096;       // argv, env, shares, publish: guest cmdline and memory
constexpr int64_t kMaxSeconds = 7 * 24 * 3600;

const char* ModeName(NetworkOptions::Mode mode) {
  switch (mode) {
    case NetworkOptions::Mode::kNone: return "none";
    case NetworkOptions::Mode::kInProcess: return "lan";
    case NetworkOptions::Mode::kSwitch: return "switch";
  }
  return "none";
}

const char* PullName(image::PullPolicy pull) {
  switch (pull) {
    case image::PullPolicy::kAlways: return "always";
    case image::PullPolicy::kMissing: return "missing";
    case image::PullPolicy::kNever: return "never";
  }
  return "missing";
}

json NetworkJson(const RunSpec& spec) {
  const NetworkOptions& net = spec.network;
  return {{"mode", ModeName(net.mode)},      {"switch_socket", net.switch_socket},
          {"publish", net.publish},          {"egress_allow", net.egress_allow},
          {"firewall", spec.firewall_rules}, {"firewall_file", net.firewall_file}};
}

Error Bad(const std::string& field, const std::string& what) {
  return Error(ErrorKind::kUsage, "run spec: \"" + field + "\": " + what);
}

// The JSON text nests at most kMaxDepth deep (checked before parsing).
Result<void> CheckDepth(std::string_view text) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) return Error(ErrorKind::kUsage, "run spec: nested too deeply");
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return Ok();
}

Result<std::string> String(const json& value, const std::string& field, size_t max) {
  if (!value.is_string()) return Bad(field, "must be a string");
  const auto& text = value.get_ref<const std::string&>();
  if (text.size() > max) return Bad(field, "longer than " + std::to_string(max) + " bytes");
  if (text.find('\0') != std::string::npos) return Bad(field, "contains a NUL byte");
  return text;
}

Result<std::vector<std::string>> Strings(const json& value, const std::string& field,
                                         size_t max_each) {
  if (!value.is_array()) return Bad(field, "must be an array of strings");
  if (value.size() > kMaxListItems)
    return Bad(field, "more than " + std::to_string(kMaxListItems) + " entries");
  std::vector<std::string> out;
  for (const json& item : value) out.push_back(VK_TRY(String(item, field, max_each)));
  return out;
}

Result<bool> Bool(const json& value, const std::string& field) {
  if (!value.is_boolean()) return Bad(field, "must be true or false");
  return value.get<bool>();
}

Result<uint64_t> Unsigned(const json& value, const std::string& field, uint64_t max) {
  // JSON text parses a non-negative integer as unsigned, a negative one as signed.
  if (!value.is_number_unsigned()) return Bad(field, "must be a non-negative integer");
  uint64_t n = value.get<uint64_t>();
  if (n > max) return Bad(field, "must be at most " + std::to_string(max));
  return n;
}

using Handler = std::function<Result<void>(const json&, const std::string& field, RunSpec&)>;

Handler Text(std::string RunSpec::*member, size_t max = kMaxShortString) {
  return [member, max](const json& v, const std::string& field, RunSpec& s) -> Result<void> {
    s.*member = VK_TRY(String(v, field, max));
    return Ok();
  };
}

Handler List(std::vector<std::string> RunSpec::*member) {
  return [member](const json& v, const std::string& field, RunSpec& s) -> Result<void> {
    s.*member = VK_TRY(Strings(v, field, kMaxLongString));
    return Ok();
  };
}

Handler Flag(bool RunSpec::*member) {
  return [member](const json& v, const std::string& field, RunSpec& s) -> Result<void> {
    s.*member = VK_TRY(Bool(v, field));
    return Ok();
  };
}

Result<SharedDir> ShareFromJson(const json& v) {
  if (!v.is_object()) return Bad("shares", "entries must be objects");
  SharedDir share;
  for (const auto& [key, value] : v.items()) {
    const std::string field = "shares." + key;
    if (key == "host") {
      share.host_path = VK_TRY(String(value, field, kMaxShortString));
    } else if (key == "guest") {
      share.guest_path = VK_TRY(String(value, field, kMaxShortString));
    } else if (key == "read_only") {
      share.read_only = VK_TRY(Bool(value, field));
    } else {
      return Bad(field, "unknown field");
    }
  }
  if (share.host_path.empty() || share.guest_path.empty())
    return Bad("shares", "each entry needs \"host\" and \"guest\"");
  return share;
}

Result<GuestTmpfs> TmpfsFromJson(const json& v) {
  if (!v.is_object()) return Bad("tmpfs", "entries must be objects");
  GuestTmpfs tmpfs;
  for (const auto& [key, value] : v.items()) {
    const std::string field = "tmpfs." + key;
    if (key == "guest") {
      tmpfs.guest_path = VK_TRY(String(value, field, kMaxShortString));
    } else if (key == "size_bytes") {
      tmpfs.size_bytes = VK_TRY(Unsigned(value, field, UINT64_MAX));
    } else if (key == "mode") {
      tmpfs.mode = static_cast<uint32_t>(VK_TRY(Unsigned(value, field, 07777)));
    } else {
      return Bad(field, "unknown field");
    }
  }
  if (tmpfs.guest_path.empty()) return Bad("tmpfs", "each entry needs \"guest\"");
  return tmpfs;
}

Result<GuestBind> BindFromJson(const json& v) {
  if (!v.is_object()) return Bad("binds", "entries must be objects");
  GuestBind bind;
  for (const auto& [key, value] : v.items()) {
    const std::string field = "binds." + key;
    if (key == "source") {
      bind.source = VK_TRY(String(value, field, kMaxShortString));
    } else if (key == "target") {
      bind.target = VK_TRY(String(value, field, kMaxShortString));
    } else if (key == "read_only") {
      bind.read_only = VK_TRY(Bool(value, field));
    } else {
      return Bad(field, "unknown field");
    }
  }
  if (bind.source.empty() || bind.target.empty())
    return Bad("binds", "each entry needs \"source\" and \"target\"");
  return bind;
}

// A list of objects, each read by `item` into `out`.
template <typename T>
Result<void> ObjectsFromJson(const json& v, const std::string& field, std::vector<T>& out,
                             Result<T> (*item)(const json&)) {
  if (!v.is_array()) return Bad(field, "must be an array");
  if (v.size() > kMaxListItems) return Bad(field, "too many entries");
  out.clear();
  for (const json& entry : v) out.push_back(VK_TRY(item(entry)));
  return Ok();
}

Result<image::LayerOwner> LayerOwnerFromJson(const json& v) {
  if (!v.is_object()) return Bad("layer_owners", "entries must be objects");
  image::LayerOwner owner;
  bool has_path = false;
  for (const auto& [key, value] : v.items()) {
    const std::string field = "layer_owners." + key;
    if (key == "path") {
      owner.path = VK_TRY(String(value, field, kMaxShortString));
      has_path = !owner.path.empty();
    } else if (key == "uid") {
      owner.uid = static_cast<uint32_t>(VK_TRY(Unsigned(value, field, UINT32_MAX)));
    } else if (key == "gid") {
      owner.gid = static_cast<uint32_t>(VK_TRY(Unsigned(value, field, UINT32_MAX)));
    } else {
      return Bad(field, "unknown field");
    }
  }
  if (!has_path) return Bad("layer_owners", "each entry needs a \"path\"");
  return owner;
}

// A handler for a list of objects read by `item`.
template <typename T>
Handler Objects(std::vector<T> RunSpec::*member, Result<T> (*item)(const json&)) {
  return [member, item](const json& v, const std::string& field, RunSpec& s) {
    return ObjectsFromJson(v, field, s.*member, item);
  };
}

Result<NetworkOptions::Mode> ModeFromJson(const json& v) {
  std::string name = VK_TRY(String(v, "network.mode", kMaxShortString));
  if (name == "none") return NetworkOptions::Mode::kNone;
  if (name == "lan") return NetworkOptions::Mode::kInProcess;
  if (name == "switch") return NetworkOptions::Mode::kSwitch;
  return Bad("network.mode", "must be none, lan or switch (got \"" + name + "\")");
}

Result<void> NetworkFromJson(const json& v, const std::string&, RunSpec& s) {
  if (!v.is_object()) return Bad("network", "must be an object");
  NetworkOptions& net = s.network;
  for (const auto& [key, value] : v.items()) {
    const std::string field = "network." + key;
    if (key == "mode") {
      net.mode = VK_TRY(ModeFromJson(value));
    } else if (key == "switch_socket") {
      net.switch_socket = VK_TRY(String(value, field, kMaxShortString));
    } else if (key == "publish") {
      net.publish = VK_TRY(Strings(value, field, kMaxShortString));
    } else if (key == "egress_allow") {
      net.egress_allow = VK_TRY(String(value, field, kMaxLongString));
    } else if (key == "firewall") {
      s.firewall_rules = VK_TRY(String(value, field, kMaxLongString));
    } else if (key == "firewall_file") {
      net.firewall_file = VK_TRY(String(value, field, kMaxShortString));
    } else {
      return Bad(field, "unknown field");
    }
  }
  return Ok();
}

Result<void> PullFromJson(const json& v, const std::string&, RunSpec& s) {
  std::string text = VK_TRY(String(v, "pull", kMaxShortString));
  auto policy = image::ParsePullPolicy(text);
  if (!policy.ok()) return Bad("pull", "must be always, missing or never");
  s.pull = *policy;
  return Ok();
}

Result<void> SecondsFromJson(const json& v, std::chrono::seconds& out, const std::string& field) {
  out = std::chrono::seconds(VK_TRY(Unsigned(v, field, kMaxSeconds)));
  return Ok();
}

const std::map<std::string, Handler, std::less<>>& Handlers() {
  static const auto* handlers = new std::map<std::string, Handler, std::less<>>{
      {"name", Text(&RunSpec::name)},
      {"image", Text(&RunSpec::image)},
      {"rootfs_path", Text(&RunSpec::rootfs_path)},
      {"layer_dir", Text(&RunSpec::layer_dir)},
      {"layer_owners", Objects(&RunSpec::layer_owners, LayerOwnerFromJson)},
      {"image_store", Text(&RunSpec::image_store)},
      {"cpus",
       [](const json& v, const std::string& field, RunSpec& s) -> Result<void> {
         s.cpus = static_cast<unsigned>(VK_TRY(Unsigned(v, field, 1024)));
         return Ok();
       }},
      {"memory_bytes",
       [](const json& v, const std::string& field, RunSpec& s) -> Result<void> {
         s.memory_bytes = VK_TRY(Unsigned(v, field, UINT64_MAX));
         return Ok();
       }},
      {"command", List(&RunSpec::command)},
      {"entrypoint", Text(&RunSpec::entrypoint, kMaxLongString)},
      {"shell", Flag(&RunSpec::shell)},
      {"env", List(&RunSpec::env)},
      {"user", Text(&RunSpec::user)},
      {"workdir", Text(&RunSpec::workdir)},
      {"shares", Objects(&RunSpec::shares, ShareFromJson)},
      {"tmpfs", Objects(&RunSpec::tmpfs, TmpfsFromJson)},
      {"binds", Objects(&RunSpec::binds, BindFromJson)},
      {"hostname", Text(&RunSpec::hostname)},
      {"network", NetworkFromJson},
      {"cold", Flag(&RunSpec::cold)},
      {"vmm",
       [](const json& v, const std::string& field, RunSpec& s) -> Result<void> {
         s.vmm = VK_TRY(ParseVmmKind(VK_TRY(String(v, field, kMaxShortString))).Context(field));
         return Ok();
       }},
      {"boot_timeout_seconds",
       [](const json& v, const std::string& field, RunSpec& s) {
         return SecondsFromJson(v, s.boot_timeout, field);
       }},
      {"timeout_seconds",
       [](const json& v, const std::string& field, RunSpec& s) -> Result<void> {
         std::chrono::seconds seconds{0};
         VK_TRY(SecondsFromJson(v, seconds, field));
         if (seconds.count() > 0) {
           s.timeout = seconds;
         } else {
           s.timeout.reset();
         }
         return Ok();
       }},
      {"detach", Flag(&RunSpec::detach)},
      {"remove_on_exit", Flag(&RunSpec::remove_on_exit)},
      {"keep_scratch", Flag(&RunSpec::keep_scratch)},
      {"pull", PullFromJson},
      {"platform", Text(&RunSpec::platform)},
      {"insecure", Flag(&RunSpec::insecure)},
      {"tty", Flag(&RunSpec::tty)},
      {"interactive", Flag(&RunSpec::interactive)},
  };
  return *handlers;
}

Result<RunSpec> FromJson(const json& root) {
  if (!root.is_object()) return Error(ErrorKind::kUsage, "run spec: must be a JSON object");
  auto version = root.find("version");
  if (version == root.end()) return Bad("version", "missing (this vk reads version 1)");
  if (!version->is_number_integer() || version->get<int64_t>() != kVersion)
    return Bad("version", "unsupported (this vk reads version 1)");
  RunSpec spec;
  for (const auto& [key, value] : root.items()) {
    if (key == "version") continue;
    auto handler = Handlers().find(key);
    if (handler == Handlers().end()) return Bad(key, "unknown field");
    VK_TRY(handler->second(value, key, spec));
  }
  return spec;
}

}  // namespace

std::string EncodeRunSpec(const RunSpec& spec) {
  json owners = json::array();
  for (const image::LayerOwner& owner : spec.layer_owners)
    owners.push_back({{"path", owner.path}, {"uid", owner.uid}, {"gid", owner.gid}});
  json shares = json::array();
  for (const SharedDir& share : spec.shares)
    shares.push_back(
        {{"host", share.host_path}, {"guest", share.guest_path}, {"read_only", share.read_only}});
  json tmpfs = json::array();
  for (const GuestTmpfs& t : spec.tmpfs) {
    json entry = {{"guest", t.guest_path}};
    if (t.size_bytes) entry["size_bytes"] = *t.size_bytes;
    if (t.mode) entry["mode"] = *t.mode;
    tmpfs.push_back(entry);
  }
  json binds = json::array();
  for (const GuestBind& b : spec.binds)
    binds.push_back({{"source", b.source}, {"target", b.target}, {"read_only", b.read_only}});
  json j = {{"version", kVersion},
            {"name", spec.name},
            {"image", spec.image},
            {"rootfs_path", spec.rootfs_path},
            {"layer_dir", spec.layer_dir},
            {"layer_owners", owners},
            {"image_store", spec.image_store},
            {"cpus", spec.cpus},
            {"memory_bytes", spec.memory_bytes},
            {"command", spec.command},
            {"entrypoint", spec.entrypoint},
            {"shell", spec.shell},
            {"env", spec.env},
            {"user", spec.user},
            {"workdir", spec.workdir},
            {"shares", shares},
            {"tmpfs", tmpfs},
            {"binds", binds},
            {"hostname", spec.hostname},
            {"network", NetworkJson(spec)},
            {"cold", spec.cold},
            {"vmm", VmmKindName(spec.vmm)},
            {"boot_timeout_seconds", spec.boot_timeout.count()},
            {"timeout_seconds", spec.timeout ? spec.timeout->count() : 0},
            {"detach", spec.detach},
            {"remove_on_exit", spec.remove_on_exit},
            {"keep_scratch", spec.keep_scratch},
            {"pull", PullName(spec.pull)},
            {"platform", spec.platform},
            {"insecure", spec.insecure},
            {"tty", spec.tty},
            {"interactive", spec.interactive}};
  // Invalid UTF-8 (a path is bytes) is replaced rather than thrown on.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<RunSpec> DecodeRunSpec(std::string_view text) {
  if (text.size() > kMaxRunSpecBytes) {
    return Error(ErrorKind::kUsage,
                 "run spec: larger than " + std::to_string(kMaxRunSpecBytes) + " bytes");
  }
  VK_TRY(CheckDepth(text));
  try {
    json root = json::parse(text);
    return FromJson(root);
  } catch (const json::exception& e) {
    return Error(ErrorKind::kUsage, std::string("run spec: not valid JSON: ") + e.what());
  }
}

}  // namespace vk
