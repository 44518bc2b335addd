#include "build/build_config.h"

#include <nlohmann/json.hpp>

#include "image/manifest.h"

namespace vk::build {
namespace {

using Json = nlohmann::json;

Error Bad(std::string_view field, std::string_view want) {
  return Error(ErrorKind::kImage,
               "image config: " + std::string(field) + " is not " + std::string(want));
}

// Each reader leaves `out` alone when the key is absent or null.
Result<void> ReadString(const Json& obj, const char* key, std::string& out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Ok();
  if (!it->is_string()) return Bad(key, "a string");
  out = it->get<std::string>();
  return Ok();
}

Result<void> ReadStrings(const Json& obj, const char* key, std::vector<std::string>& out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Ok();
  if (!it->is_array()) return Bad(key, "an array of strings");
  out.clear();
  for (const Json& item : *it) {
    if (!item.is_string()) return Bad(key, "an array of strings");
    out.push_back(item.get<std::string>());
  }
  return Ok();
}

// {"80/tcp": {}} sets (ExposedPorts, Volumes): the keys matter.
Result<void> ReadKeySet(const Json& obj, const char* key, std::set<std::string>& out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Ok();
  if (!it->is_object()) return Bad(key, "an object");
  for (const auto& [name, value] : it->items()) out.insert(name);
  return Ok();
}

Result<void> ReadLabels(const Json& obj, std::map<std::string, std::string>& out) {
  auto it = obj.find("Labels");
  if (it == obj.end() || it->is_null()) return Ok();
  if (!it->is_object()) return Bad("Labels", "an object");
  for (const auto& [name, value] : it->items()) {
    if (!value.is_string()) return Bad("Labels." + name, "a string");
    out[name] = value.get<std::string>();
  }
  return Ok();
}

Result<int64_t> ReadInt(const Json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return 0;
  if (!it->is_number_integer()) return Bad(key, "an integer");
  return it->get<int64_t>();
}

Result<void> ReadHealth(const Json& obj, std::optional<HealthConfig>& out) {
  auto it = obj.find("Healthcheck");
  if (it == obj.end() || it->is_null()) return Ok();
  if (!it->is_object()) return Bad("Healthcheck", "an object");
  HealthConfig h;
  VK_TRY(ReadStrings(*it, "Test", h.test));
  h.interval_ns = VK_TRY(ReadInt(*it, "Interval"));
  h.timeout_ns = VK_TRY(ReadInt(*it, "Timeout"));
  h.start_period_ns = VK_TRY(ReadInt(*it, "StartPeriod"));
  h.start_interval_ns = VK_TRY(ReadInt(*it, "StartInterval"));
  h.retries = static_cast<int>(VK_TRY(ReadInt(*it, "Retries")));
  out = std::move(h);
  return Ok();
}

Result<void> ReadHistory(const Json& root, std::vector<HistoryEntry>& out) {
  auto it = root.find("history");
  if (it == root.end() || it->is_null()) return Ok();
  if (!it->is_array()) return Bad("history", "an array");
  for (const Json& item : *it) {
    if (!item.is_object()) return Bad("history", "an array of objects");
    HistoryEntry entry;
    VK_TRY(ReadString(item, "created", entry.created));
    VK_TRY(ReadString(item, "created_by", entry.created_by));
    VK_TRY(ReadString(item, "comment", entry.comment));
    auto empty = item.find("empty_layer");
    entry.empty_layer = empty != item.end() && empty->is_boolean() && empty->get<bool>();
    out.push_back(std::move(entry));
  }
  return Ok();
}

Result<void> ReadRunConfig(const Json& run, BuildConfig& c) {
  VK_TRY(ReadStrings(run, "Env", c.env));
  VK_TRY(ReadStrings(run, "Entrypoint", c.entrypoint));
  VK_TRY(ReadStrings(run, "Cmd", c.cmd));
  VK_TRY(ReadString(run, "WorkingDir", c.working_dir));
  VK_TRY(ReadString(run, "User", c.user));
  VK_TRY(ReadLabels(run, c.labels));
  VK_TRY(ReadKeySet(run, "ExposedPorts", c.exposed_ports));
  VK_TRY(ReadKeySet(run, "Volumes", c.volumes));
  VK_TRY(ReadString(run, "StopSignal", c.stop_signal));
  VK_TRY(ReadStrings(run, "Shell", c.shell));
  VK_TRY(ReadHealth(run, c.healthcheck));
  VK_TRY(ReadStrings(run, "OnBuild", c.onbuild));
  return Ok();
}

Json KeySet(const std::set<std::string>& keys) {
  Json j = Json::object();
  for (const std::string& key : keys) j[key] = Json::object();
  return j;
}

Json HealthJson(const HealthConfig& h) {
  Json j = {{"Test", h.test}};
  if (h.interval_ns) j["Interval"] = h.interval_ns;
  if (h.timeout_ns) j["Timeout"] = h.timeout_ns;
  if (h.start_period_ns) j["StartPeriod"] = h.start_period_ns;
  if (h.start_interval_ns) j["StartInterval"] = h.start_interval_ns;
  if (h.retries) j["Retries"] = h.retries;
  return j;
}

Json RunConfigJson(const BuildConfig& c) {
  Json run = Json::object();
  if (!c.env.empty()) run["Env"] = c.env;
  if (!c.entrypoint.empty()) run["Entrypoint"] = c.entrypoint;
  if (!c.cmd.empty()) run["Cmd"] = c.cmd;
  if (!c.working_dir.empty()) run["WorkingDir"] = c.working_dir;
  if (!c.user.empty()) run["User"] = c.user;
  if (!c.labels.empty()) run["Labels"] = c.labels;
  if (!c.exposed_ports.empty()) run["ExposedPorts"] = KeySet(c.exposed_ports);
  if (!c.volumes.empty()) run["Volumes"] = KeySet(c.volumes);
  if (!c.stop_signal.empty()) run["StopSignal"] = c.stop_signal;
  if (!c.shell.empty()) run["Shell"] = c.shell;
  if (c.healthcheck) run["Healthcheck"] = HealthJson(*c.healthcheck);
  if (!c.onbuild.empty()) run["OnBuild"] = c.onbuild;
  return run;
}

}  // namespace

std::optional<std::string> BuildConfig::Env(std::string_view key) const {
  for (const std::string& kv : env) {
    if (kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=')
      return kv.substr(key.size() + 1);
  }
  return std::nullopt;
}

void BuildConfig::SetEnv(std::string_view key, std::string_view value) {
  std::string entry = std::string(key) + "=" + std::string(value);
  for (std::string& kv : env) {
    if (kv.size() > key.size() && kv.compare(0, key.size(), key) == 0 && kv[key.size()] == '=') {
      kv = std::move(entry);
      return;
    }
  }
  env.push_back(std::move(entry));
}

std::vector<std::string> BuildConfig::Shell() const {
  if (!shell.empty()) return shell;
  return {"/bin/sh", "-c"};
}

Result<BuildConfig> ParseBuildConfig(std::string_view text) {
  if (text.size() > kMaxBuildConfigBytes)
    return Error(ErrorKind::kImage,
                 "image config is over " + std::to_string(kMaxBuildConfigBytes) + " bytes");
  VK_TRY(image::CheckJsonDepth(text).WithKind(ErrorKind::kImage));
  Json root = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object())
    return Error(ErrorKind::kImage, "image config is not a JSON object");
  BuildConfig c;
  VK_TRY(ReadString(root, "architecture", c.architecture));
  VK_TRY(ReadString(root, "os", c.os));
  VK_TRY(ReadString(root, "created", c.created));
  auto run = root.find("config");
  if (run != root.end() && !run->is_null()) {
    if (!run->is_object()) return Bad("config", "an object");
    VK_TRY(ReadRunConfig(*run, c));
  }
  auto rootfs = root.find("rootfs");
  if (rootfs != root.end() && rootfs->is_object())
    VK_TRY(ReadStrings(*rootfs, "diff_ids", c.diff_ids));
  VK_TRY(ReadHistory(root, c.history));
  return c;
}

std::string SerializeBuildConfig(const BuildConfig& c) {
  Json history = Json::array();
  for (const HistoryEntry& h : c.history) {
    Json entry = Json::object();
    if (!h.created.empty()) entry["created"] = h.created;
    if (!h.created_by.empty()) entry["created_by"] = h.created_by;
    if (!h.comment.empty()) entry["comment"] = h.comment;
    if (h.empty_layer) entry["empty_layer"] = true;
    history.push_back(std::move(entry));
  }
  Json root = {{"architecture", c.architecture},
               {"os", c.os},
               {"config", RunConfigJson(c)},
               {"rootfs", {{"type", "layers"}, {"diff_ids", c.diff_ids}}},
               {"history", std::move(history)}};
  if (!c.created.empty()) root["created"] = c.created;
  // nlohmann's object keys are sorted: the same config is the same bytes.
  return root.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace vk::build
